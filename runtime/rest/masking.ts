import { looksSecret } from '../config/problems.ts';

/** What the REST API and support bundles show instead of a secret value (Kafka Connect's placeholder). */
export const HIDDEN = '[hidden]';

/** Keys whose values are never echoed: passwords, JAAS configs, tokens, `basic.auth.user.info`, … */
export function isSecretKey(key: string): boolean {
  return looksSecret(key) || /user\.info$|apikey|api\.key|auth\.credentials/i.test(key);
}

export function maskConfig(props: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(props)) out[key] = isSecretKey(key) ? HIDDEN : value;
  return out;
}
