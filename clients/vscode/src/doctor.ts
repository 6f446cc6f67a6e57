/** Formats the answer of the server's `codestral/doctor` request for the output channel. */

export interface DoctorCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface DoctorReport {
  readonly version: string;
  readonly checks: readonly DoctorCheck[];
}

export function parseDoctor(raw: unknown): DoctorReport | undefined {
  if (raw === null || typeof raw !== "object") {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.checks)) {
    return undefined;
  }
  const checks: DoctorCheck[] = [];
  for (const c of r.checks as unknown[]) {
    if (c && typeof c === "object") {
      const cc = c as Record<string, unknown>;
      checks.push({
        name: typeof cc.name === "string" ? cc.name : "?",
        ok: cc.ok === true,
        detail: typeof cc.detail === "string" ? cc.detail : "",
      });
    }
  }
  return { version: typeof r.version === "string" ? r.version : "?", checks };
}

export function formatDoctor(report: DoctorReport): { text: string; failed: number } {
  const lines = [`codestral-ls ${report.version} — doctor`];
  let failed = 0;
  for (const c of report.checks) {
    if (!c.ok) {
      failed += 1;
    }
    lines.push(`  ${c.ok ? "ok  " : "FAIL"}  ${c.name}${c.detail ? `: ${c.detail}` : ""}`);
  }
  lines.push(failed === 0 ? "All checks passed." : `${failed} check(s) failed.`);
  return { text: lines.join("\n"), failed };
}
