/**
 * The shared leak scan finds secrets in every form it promises, names them without revealing
 * them, and stays quiet on clean text.
 */
import { readFileSync } from 'node:fs';
import { DEMO_SEED_FILE, type ConnectSeed } from '../../local/connect/server';
import { collectSecretValues, expectNoLeaks, scanForLeaks } from './leak-scan';

const SECRET = 'payapi_demo_staging_nOyPQo2lRPS71JUDOnFOKuT5Cm5upfg9';

describe('collectSecretValues', () => {
  const demo = JSON.parse(readFileSync(DEMO_SEED_FILE, 'utf8')) as ConnectSeed;

  test('the demo vault: every token, field value and file, and the parts that betray them', () => {
    const values = collectSecretValues();
    for (const token of demo.tokens) expect(values).toContain(token.token);
    expect(values).toContain(SECRET);
    expect(values).toContain('app_staging');
    expect(values.some((value) => value.startsWith('-----BEGIN CERTIFICATE-----'))).toBe(true);
    expect(values).toContain('DEMO-STAGING-CA-NOT-A-REAL-CERTIFICATE-lkNyjQW5862G5BkByMqBCSHnqJks9L8n');
    expect(values).toContain('R7DQATMVZZ4IHJIKAIG4JNXGRVC3BNEJ');
    expect(new Set(values).size).toBe(values.length);
    expect(values).not.toContain('');
  });

  test('options leave out tokens and plain fields', () => {
    const values = collectSecretValues(demo, { tokens: false, concealedOnly: true });
    expect(values).toContain(SECRET);
    expect(values).not.toContain('app_staging');
    expect(values).not.toContain(demo.tokens[0]!.token);
  });
});

describe('scanForLeaks', () => {
  const forms: [string, string][] = [
    ['raw', `{"message":"key ${SECRET} used"}`],
    ['json-escaped', JSON.stringify({ line: 'ca "-----BEGIN\nDEMO-LINE-THAT-IS-LONG-ENOUGH\n"' })],
    ['url-encoded', `GET /callback?key=${encodeURIComponent('pass word/with+symbols')}`],
    ['base64', `Authorization: Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}`],
    ['base64url', `token=${Buffer.from('xxsig>>>key???value~~~').toString('base64url')}`],
    ['hex', `dump ${Buffer.from(SECRET).toString('hex').toUpperCase()}`],
  ];
  const secrets = [SECRET, 'ca "-----BEGIN\nDEMO-LINE-THAT-IS-LONG-ENOUGH\n"', 'pass word/with+symbols', 'sig>>>key???value~~~'];

  test.each(forms)('finds a secret as %s', (form, text) => {
    const findings = scanForLeaks([text], secrets);
    expect(findings.map((finding) => finding.form)).toContain(form);
  });

  test('a base64 blob is caught whatever the secret’s offset in it', () => {
    for (const prefix of ['', 'a', 'ab', 'abc', 'abcd']) {
      const blob = Buffer.from(`${prefix}${SECRET}!`).toString('base64');
      expect(scanForLeaks([blob], [SECRET]).length).toBeGreaterThan(0);
    }
  });

  test('findings say where, never the secret itself', () => {
    const [finding] = scanForLeaks({ 'function logs': ['clean', `oops ${SECRET}`] }, [SECRET]);
    expect(finding).toMatchObject({ where: 'function logs[1]', form: 'raw', secret: '"paya..." (52 chars)' });
    expect(JSON.stringify(finding)).not.toContain(SECRET);
    expect(finding!.excerpt).toContain('oops [LEAK]');
  });

  test('clean text, short values and near misses are not findings', () => {
    const text = `payapi_demo_staging_nOyPQo2lRPS71JUDOnFOKuT5Cm5upfg8 ${Buffer.from('unrelated').toString('base64')} ab`;
    expect(scanForLeaks([text], [SECRET, 'ab'])).toEqual([]);
  });
});

describe('expectNoLeaks', () => {
  test('passes on clean text and fails listing masked findings', () => {
    expect(() => expectNoLeaks('nothing to see', [SECRET])).not.toThrow();
    let message = '';
    try {
      expectNoLeaks({ responses: [`{"key":"${SECRET}"}`] }, [SECRET]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/1 secret leak\(s\) found:\n {2}responses\[0\]: "paya\.\.\." \(52 chars\) as raw/);
    expect(message).not.toContain(SECRET);
  });

  test('refuses to scan for nothing', () => {
    expect(() => expectNoLeaks('text', [])).toThrow(/no secrets/);
  });
});
