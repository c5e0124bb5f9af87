#!/usr/bin/env node
// Run the repo's pytest suite under Pyodide (CPython compiled to WebAssembly) in Node.js.
//
// Usage: node run-tests.mjs --pyodide-dir DIR --wheels DIR --repo DIR [-- pytest args...]
//   --pyodide-dir  directory containing node_modules/pyodide
//   --wheels       directory of pure-Python .whl files (pytest, hypothesis and their deps)
//   --repo         repo to test (src layout); mounted at /repo, /repo/src goes on sys.path
// Exits with pytest's exit code; 3 (pytest's INTERNAL_ERROR) if setup itself fails.
import { parseArgs } from "node:util";
import { existsSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const { values: opt, positionals } = parseArgs({
  options: {
    "pyodide-dir": { type: "string" },
    wheels: { type: "string" },
    repo: { type: "string" },
  },
  allowPositionals: true, // everything after "--" lands here
});
for (const k of ["pyodide-dir", "wheels", "repo"]) {
  if (!opt[k] || !existsSync(opt[k])) {
    console.error(`run-tests.mjs: --${k} DIR is required and must exist (got ${opt[k]})`);
    process.exit(2);
  }
}
const pytestArgs = positionals.length ? positionals : ["tests", "-q", "-p", "no:cacheprovider"];

// Write straight to the fd, synchronously, so output streams as pytest prints it
// and nothing is lost on process.exit(). Retry on EAGAIN (non-blocking pipes).
function writeAll(fd, buf) {
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
    }
  }
  return buf.length;
}

// Only pass through variables meant for the test tools (host paths like TMPDIR
// would not exist in the Pyodide file system). CI=true selects hypothesis' "ci" profile.
const env = { PYTHONDONTWRITEBYTECODE: "1", HYPOTHESIS_STORAGE_DIRECTORY: "/tmp/.hypothesis" };
for (const [k, v] of Object.entries(process.env)) {
  if (k === "CI" || k.startsWith("PYTEST_") || k.startsWith("HYPOTHESIS_")) env[k] = v;
}

const SETUP = `
import glob, os, site, sys, zipfile
print("Python under Pyodide:", sys.version.replace("\\n", " "), flush=True)
# Pure-Python wheels are zip files: unpacking into site-packages "installs" them
# (incl. dist-info, so pytest11 entry points such as hypothesis' plugin are found).
sp = site.getsitepackages()[0]
for whl in sorted(glob.glob("/wheels/*.whl")):
    with zipfile.ZipFile(whl) as z:
        z.extractall(sp)
sys.path.insert(0, "/repo/src")
os.chdir("/repo")
`;
const RUN = `
import sys, pytest
sys.argv = ["pytest", *pytest_args]
try:
    _code = int(pytest.main(list(pytest_args)))
except SystemExit as e:  # e.g. a conftest calling sys.exit()
    _code = e.code if isinstance(e.code, int) else (1 if e.code else 0)
sys.stdout.flush(); sys.stderr.flush()
_code
`;

try {
  const pyodideDir = resolve(opt["pyodide-dir"], "node_modules", "pyodide");
  const { loadPyodide } = await import(pathToFileURL(join(pyodideDir, "pyodide.mjs")).href);
  const py = await loadPyodide({ indexURL: pyodideDir + "/", env });
  py.setStdout({ write: (b) => writeAll(1, b), isatty: !!process.stdout.isTTY });
  py.setStderr({ write: (b) => writeAll(2, b), isatty: !!process.stderr.isTTY });
  // Host directories appear inside the wasm file system via NODEFS (reads and writes go to disk).
  for (const [host, mnt] of [[opt.repo, "/repo"], [opt.wheels, "/wheels"]]) {
    py.FS.mkdirTree(mnt);
    py.FS.mount(py.FS.filesystems.NODEFS, { root: resolve(host) }, mnt);
  }
  py.runPython(SETUP);
  py.globals.set("pytest_args", py.toPy(pytestArgs));
  const code = py.runPython(RUN);
  process.exit(code);
} catch (e) {
  // PythonError.message holds the Python traceback.
  // (Emscripten FS errors are ErrnoError objects with only an errno.)
  console.error("run-tests.mjs: setup failed:\n" + (e?.message || `${e?.name} errno=${e?.errno}`));
  process.exit(3);
}
