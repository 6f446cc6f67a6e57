/**
 * "Show each distinct error once": the server already de-duplicates, but restarts and setting
 * changes reset its memory; the user still should not see the same popup again and again.
 */
export class OnceFilter {
  private readonly seen = new Map<string, number>();

  /** @param windowMs how long a message stays silenced (default: for the session). */
  constructor(private readonly windowMs = Number.POSITIVE_INFINITY, private readonly now: () => number = Date.now) {}

  /** True the first time `message` is offered (and again once the window has passed). */
  first(message: string): boolean {
    const key = message.trim();
    const at = this.seen.get(key);
    const t = this.now();
    if (at !== undefined && t - at < this.windowMs) {
      return false;
    }
    this.seen.set(key, t);
    return true;
  }

  /** Forget everything, e.g. after the user changed a setting and may want to see news. */
  reset(): void {
    this.seen.clear();
  }
}
