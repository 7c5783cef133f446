#!/usr/bin/env bash
# npm test: vitest (unit + integration) inside the hermetic sandbox, then one
# plain closing line, "Tests: N passed, N failed, N skipped", read from
# vitest's JSON report. Exits with vitest's status.
set -uo pipefail
cd "$(dirname "$0")/../.."
# The guest image is built (or found in the cache) out here: the sandbox has
# no route to Debian's archive.
node dist/cli/main.js image build --stack two-vm || exit $?
report=$(mktemp /tmp/followme-vitest.XXXXXX.json)
# A temp dir of the run's own: the last test scans what was left in it for key material.
run_tmp=$(mktemp -d /tmp/followme-testrun.XXXXXX)
TMPDIR="$run_tmp" FOLLOWME_TEST_TMPDIR="$run_tmp" \
  bash test/harness/sandbox.sh npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
rm -rf "$run_tmp"
node -e '
  const fs = require("node:fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { console.log("Tests: 0 passed, 1 failed (no vitest report)"); process.exit(0); }
  // Where the run'"'"'s time went (CI time is scarce): each file'"'"'s wall time, the slowest first.
  const files = (r.testResults ?? []).map((f) => ({ s: Math.round((f.endTime - f.startTime) / 1000), name: f.name.replace(process.cwd() + "/", "") }));
  for (const f of files.filter((f) => f.s >= 30).sort((a, b) => b.s - a.s)) console.log(`${String(f.s).padStart(6)} s  ${f.name}`);
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report"
rm -f "$report"
exit $rc
