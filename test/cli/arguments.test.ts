/**
 * The command line itself, driven in-process through run(argv, io): help on every command,
 * --version, and every kind of bad argument giving one clear line, a usage hint and exit 2.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, test } from 'node:test'
import { commands } from '../../src/cli/commands.ts'
import { ExitCode, run } from '../../src/cli/run.ts'
import { makeRuntimeDir } from '../helpers/tmp.ts'
import { captureIo } from './captured-io.ts'

const packageVersion = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version

describe('help and version', () => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    test(`switchboard ${argv.join(' ')} lists every command`, async () => {
      const io = captureIo()
      assert.equal(await run(argv, io), ExitCode.ok)
      assert.match(io.out(), /^usage: switchboard COMMAND/)
      for (const c of commands)
        assert.match(io.out(), new RegExp(`^  ${c.name}\\s+${escapeRegExp(c.summary)}`, 'm'))
      assert.equal(io.err(), '')
    })
  }

  for (const command of commands) {
    for (const flag of ['--help', '-h']) {
      test(`switchboard ${command.name} ${flag} shows its usage, arguments and options`, async () => {
        const io = captureIo()
        assert.equal(await run([command.name, flag], io), ExitCode.ok)
        assert.ok(io.out().startsWith(`usage: switchboard ${command.name} `), io.out())
        for (const p of command.positionals) assert.match(io.out(), new RegExp(`^  ${p.name}\\s`, 'm'))
        for (const name of Object.keys(command.options)) assert.match(io.out(), new RegExp(`--${name}\\b`))
        assert.match(io.out(), /exit codes: 0 success, 1 error .*, 2 bad arguments/)
        assert.equal(io.err(), '')
      })
    }
  }

  test('--help wins over other mistakes on the same line', async () => {
    const io = captureIo()
    assert.equal(await run(['call', '--bogus', '--help'], io), ExitCode.ok)
    assert.match(io.out(), /^usage: switchboard call ADDRESS METHOD \[JSON\]/)
  })

  for (const flag of ['--version', '-V']) {
    test(`${flag} prints the version from package.json`, async () => {
      const io = captureIo()
      assert.equal(await run([flag], io), ExitCode.ok)
      assert.equal(io.out(), `${packageVersion}\n`)
    })
  }
})

describe('bad arguments exit 2 with one message line and a usage hint', () => {
  const cases: { argv: string[]; message: string; hint: RegExp }[] = [
    { argv: [], message: 'switchboard: missing COMMAND', hint: /switchboard --help/ },
    {
      argv: ['frobnicate'],
      message: "switchboard: unknown command 'frobnicate'",
      hint: /switchboard --help/,
    },
    { argv: ['--frob'], message: "switchboard: unknown option '--frob'", hint: /switchboard --help/ },
    {
      argv: ['serve'],
      message: 'switchboard serve: missing ADDRESS',
      hint: /usage: switchboard serve ADDRESS/,
    },
    {
      argv: ['serve', 'a', 'b'],
      message: "switchboard serve: unexpected argument 'b'",
      hint: /see 'switchboard serve --help'/,
    },
    {
      argv: ['serve', 'a', '--bogus'],
      message: "switchboard serve: unknown option '--bogus'",
      hint: /serve/,
    },
    {
      argv: ['serve', 'a', '--log'],
      message: "switchboard serve: option '--log' needs a value (FILE)",
      hint: /serve/,
    },
    {
      argv: ['serve', 'a', '--insecure=yes'],
      message: "switchboard serve: option '--insecure' takes no value",
      hint: /serve/,
    },
    {
      argv: ['serve', 'not a name'],
      message: 'switchboard serve: address "not a name" is invalid',
      hint: /serve/,
    },
    {
      argv: ['call', 'tcp://localhost', 'echo'],
      message: 'switchboard call: address "tcp://localhost" is invalid: a port is required',
      hint: /call/,
    },
    {
      argv: ['call', 'ftp://example.org', 'echo'],
      message: 'switchboard call: address "ftp://example.org": unknown scheme "ftp:"',
      hint: /call/,
    },
    { argv: ['call'], message: 'switchboard call: missing ADDRESS', hint: /usage: switchboard call ADDRESS/ },
    { argv: ['call', 'svc'], message: 'switchboard call: missing METHOD', hint: /call --help/ },
    {
      argv: ['call', 'svc', 'echo', '{"a":', '--timeout', '10'],
      message: 'switchboard call: the JSON argument is not valid JSON (Unexpected end of JSON input)',
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'echo', 'bare-word'],
      message: 'switchboard call: the JSON argument is not valid JSON',
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'echo', '1', '2'],
      message: "switchboard call: unexpected argument '2'",
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'echo', '--timeout', 'soon'],
      message: "switchboard call: --timeout must be a whole number of milliseconds above 0, got 'soon'",
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'echo', '--timeout=0'],
      message: "switchboard call: --timeout must be a whole number of milliseconds above 0, got '0'",
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'echo', '--timeout', '1.5'],
      message: "switchboard call: --timeout must be a whole number of milliseconds above 0, got '1.5'",
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'echo', '--timeout'],
      message: "option '--timeout' needs a value (MS)",
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'echo', '-7'],
      message: "switchboard call: unknown option '-7' (put a negative number after '--')",
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'sink', '"x"', '--stream', '-'],
      message: 'switchboard call: give the argument as JSON or as --stream, not both',
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'sink', '--stream', '/nonexistent/switchboard-cli-test.bin'],
      message: "switchboard call: cannot read --stream file '/nonexistent/switchboard-cli-test.bin' (ENOENT)",
      hint: /call/,
    },
    {
      argv: ['call', 'svc', 'sink', '--stream', '.'],
      message: "switchboard call: cannot read --stream file '.' (EISDIR)",
      hint: /call/,
    },
  ]
  for (const { argv, message, hint } of cases) {
    test(`switchboard ${argv.join(' ') || '(nothing)'}`, async () => {
      const io = captureIo()
      assert.equal(await run(argv, io), ExitCode.usage, io.err())
      const lines = io.err().split('\n')
      assert.equal(lines.length, 3, `two lines then the final newline: ${io.err()}`)
      assert.ok(lines[0]!.includes(message), `'${lines[0]}' should include '${message}'`)
      assert.match(lines[1]!, hint)
      assert.equal(io.out(), '', 'nothing on stdout')
    })
  }

  test('a negative number is a JSON argument after --', async () => {
    const dir = await makeRuntimeDir()
    after(() => dir.cleanup())
    const io = captureIo({ env: { SWITCHBOARD_RUNTIME_DIR: dir.path } })
    // Parsing passes; nothing listens there, which is a coded error (1), not a usage error (2).
    assert.equal(await run(['call', 'no-such-service', 'echo', '--', '-7'], io), ExitCode.failed)
    assert.match(io.err(), /^error CONNECT_FAILED: .*no-such-service/)
  })
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
