/**
 * Test certificates: committed fixtures in test/fixtures/tls/ (P-256, valid until 2126), made
 * once by scripts/make-test-certs.sh, so `npm test` needs no openssl. A CA, a server
 * certificate for localhost / 127.0.0.1 and a client certificate, both signed by the CA.
 */
import { fileURLToPath } from 'node:url'

export interface TestCerts {
  caFile: string
  serverCertFile: string
  serverKeyFile: string
  clientCertFile: string
  clientKeyFile: string
  /** A second CA that signed nothing here (a client trusting only it must refuse the server). */
  otherCaFile: string
}

function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url))
}

/** The committed test certificates' paths (read-only files). */
export const testCerts: TestCerts = {
  caFile: fixture('ca.crt'),
  serverCertFile: fixture('server.crt'),
  serverKeyFile: fixture('server.key'),
  clientCertFile: fixture('client.crt'),
  clientKeyFile: fixture('client.key'),
  otherCaFile: fixture('other-ca.crt'),
}
