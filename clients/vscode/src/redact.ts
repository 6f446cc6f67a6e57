/**
 * Keeps the API key out of every output channel, including the language client's own log and
 * its protocol trace (which would otherwise print `initializationOptions` verbatim).
 */

export const MASK = "********";

export class Redactor {
  private secrets: string[] = [];

  setSecrets(values: readonly (string | undefined)[]): void {
    // Longest first, so a key that contains another is masked whole. Very short strings are not
    // treated as secrets: masking "a" everywhere would make logs unreadable, and is no key.
    this.secrets = values
      .filter((v): v is string => typeof v === "string" && v.length >= 4)
      .sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      out = out.split(secret).join(MASK);
      const json = JSON.stringify(secret).slice(1, -1);
      if (json !== secret) {
        out = out.split(json).join(MASK);
      }
    }
    return out;
  }
}
