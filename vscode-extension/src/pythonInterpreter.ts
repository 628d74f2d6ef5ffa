/**
 * The interpreter selected in the Python extension (`ms-python.python`), read through its
 * public `environments` API. Kept free of the `vscode` module so the API's answers, including
 * the odd ones, can be unit-tested with plain objects.
 */

export interface UriLike {
  readonly fsPath: string;
}

export interface EnvironmentPath {
  /** The interpreter, or for some environment kinds (conda) the environment's folder. */
  readonly path: string;
}

export interface PythonEnvironmentsApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: UriLike): EnvironmentPath | undefined;
    resolveEnvironment?(
      env: EnvironmentPath,
    ): Promise<{ executable?: { uri?: UriLike } } | undefined> | { executable?: { uri?: UriLike } } | undefined;
  };
}

/**
 * The executable of the active environment for `resource`: the resolved executable when the
 * API can resolve it, else the active path as given; undefined when the API has no answer.
 * `log` hears why an answer was not usable.
 */
export async function activeInterpreter(
  api: PythonEnvironmentsApi | undefined,
  resource: UriLike | undefined,
  log: (message: string) => void = () => undefined,
): Promise<string | undefined> {
  const environments = api?.environments;
  if (environments?.getActiveEnvironmentPath === undefined) {
    return undefined;
  }
  let active: EnvironmentPath | undefined;
  try {
    active = environments.getActiveEnvironmentPath(resource);
  } catch (error) {
    log(`The Python extension did not say which interpreter is selected: ${String(error)}`);
    return undefined;
  }
  if (active === undefined || typeof active.path !== "string" || active.path === "") {
    return undefined;
  }
  try {
    const resolved = await environments.resolveEnvironment?.(active);
    const executable = resolved?.executable?.uri?.fsPath;
    if (typeof executable === "string" && executable !== "") {
      return executable;
    }
  } catch (error) {
    log(`The Python extension could not resolve ${active.path}: ${String(error)}`);
  }
  return active.path;
}
