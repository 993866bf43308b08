// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate, in one process.
// stdin: a JSON array of {id, simulation}; stdout: a JSON array of
// {id, decision, errors, deciding: [{policy, sid, effect}]}.
// Called by `make check-access`; the decisions are compared with access/cases.csv there.
'use strict';

const { runSimulation } = require('@cloud-copilot/iam-simulate');

function statements(analysis, kind) {
  if (!analysis) return [];
  const decisive = analysis.result === 'ExplicitlyDenied' ? analysis.denyStatements : analysis.allowStatements;
  return (decisive || []).map((s) => ({
    policy: s.policyId || kind,
    sid: (s.statement && s.statement.Sid) || (s.explain && s.explain.identifier) || '',
    effect: (s.explain && s.explain.effect) || (s.statement && s.statement.Effect) || '',
  }));
}

function deciding(result) {
  const a = (result && result.analysis) || {};
  const kinds = [
    ['identity', a.identityAnalysis],
    ['resource', a.resourceAnalysis],
    ['boundary', a.permissionBoundaryAnalysis],
  ];
  const out = [];
  for (const [kind, analysis] of kinds) {
    for (const s of statements(analysis, kind)) out.push({ kind, ...s });
  }
  return out;
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const requests = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const answers = [];
  for (const { id, simulation } of requests) {
    const response = await runSimulation(simulation, {});
    if (response.resultType === 'error') {
      answers.push({ id, decision: 'error', errors: response.errors, deciding: [] });
    } else if (response.resultType === 'single') {
      answers.push({ id, decision: response.overallResult, errors: null, deciding: deciding(response.result) });
    } else {
      answers.push({ id, decision: response.overallResult, errors: null, deciding: [] });
    }
  }
  process.stdout.write(JSON.stringify(answers));
}

main().catch((error) => {
  process.stderr.write(`simulate.cjs: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
