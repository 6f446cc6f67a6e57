/** The install steps, as data (unit-tested); `installer.ts` runs them. */
import { venvPython, which } from "./serverPath";

export const DEFAULT_INSTALL_SPEC = "codestral-ls[local]";

/**
 * llama-cpp-python compiles llama.cpp "native" by default; on x86-64 Linux such builds crash in
 * the first decode on some CPUs, so the server's dependency is built portable (AVX2/FMA/F16C),
 * as scripts/install.sh does. A CMAKE_ARGS the user set (e.g. -DGGML_CUDA=on) wins.
 */
export const PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON";

export interface Step {
  readonly title: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Variables added to the environment, unless the user's environment already sets them. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The Python that creates the venv: the first of python3 / python (py on Windows) on PATH. */
export function findPython(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  const names = platform === "win32" ? ["py", "python", "python3"] : ["python3", "python"];
  for (const n of names) {
    const found = which(n, env, platform);
    if (found) {
      return found;
    }
  }
  return undefined;
}

export function installPlan(
  python: string,
  venv: string,
  spec: string,
  platform: NodeJS.Platform,
  venvExists: boolean,
  arch?: string,
): Step[] {
  const steps: Step[] = [];
  steps.push({
    title: "Checking Python (3.11 or newer)",
    command: python,
    args: ["-c", "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'Python 3.11 or newer is needed, found ' + sys.version.split()[0])"],
  });
  if (!venvExists) {
    steps.push({ title: "Creating a virtual environment", command: python, args: ["-m", "venv", venv] });
  }
  const vpy = venvPython(venv, platform);
  steps.push({ title: "Updating pip", command: vpy, args: ["-m", "pip", "install", "--upgrade", "pip"] });
  steps.push({
    title: `Installing ${spec} (this can take a few minutes)`,
    command: vpy,
    args: ["-m", "pip", "install", "--upgrade", spec],
    ...(platform === "linux" && arch === "x64" ? { env: { CMAKE_ARGS: PORTABLE_CMAKE_ARGS } } : {}),
  });
  return steps;
}

