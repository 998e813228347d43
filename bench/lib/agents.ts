/**
 * Spawning agent processes (bench/agent.ts, bundled or through tsx), each waited for with a
 * timeout, and all of them killed when the runner exits: normally, by an exception or a signal.
 * An agent also exits by itself when the runner dies (its stdin ends).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { AgentHandle } from './control.ts'

/** The repository root: where `--import tsx` resolves from. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SOURCE_AGENT = fileURLToPath(new URL('../agent.ts', import.meta.url))
const live = new Set<AgentHandle>()

export interface Launcher {
  /** The bundled agent (bench/lib/bundle.ts), or undefined to run the source through tsx. */
  bundledAgent: string | undefined
}

export async function spawnAgent(
  launcher: Launcher,
  config: Record<string, unknown>,
  label: string,
  timeoutMs = 30_000,
): Promise<AgentHandle> {
  const args =
    launcher.bundledAgent === undefined
      ? ['--import', 'tsx', '--expose-gc', SOURCE_AGENT]
      : ['--expose-gc', launcher.bundledAgent]
  const child = spawn(process.execPath, [...args, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const agent = new AgentHandle(child, label)
  live.add(agent)
  void agent.exited.then(() => live.delete(agent))
  try {
    await agent.nextEvent('up', timeoutMs)
    return agent
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
}

/** Kills every agent still running (synchronous: safe in an 'exit' handler). */
export function killAllAgents(): void {
  for (const a of live) {
    if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL')
  }
  live.clear()
}
