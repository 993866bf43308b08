// Evaluates IAM requests with @cloud-copilot/iam-simulate, in one process, as they arrive.
// stdin: one JSON value a line, each one of
//   {policies: {ref: document}}: documents that the requests after it name by reference;
//   {id, simulation}: one request, whose policies are given by reference ({name, ref},
//     resourcePolicyRef), so a document shared by thousands of requests crosses the pipe once;
//   {policies, requests: [{id, simulation}]}: both at once;
//   [{id, simulation}]: requests with every policy inline.
// Each request is decided when its line is read, while the writer is still building the next
// ones. stdout, at the end: a JSON array of {id, decision, errors, deciding: [{policy, sid, effect}]}.
// Called by `make check-access` (multienv_tools/simulator.py); the decisions are compared
// with the expected ones there.
'use strict';

const path = require('path');
const readline = require('readline');
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const iamPolicy = require('@cloud-copilot/iam-policy');

// The resource types of an action depend on the action and the ARN only; the engine looks
// them up through this module's exports, so one answer per pair serves every request.
const engineDir = path.dirname(require.resolve('@cloud-copilot/iam-simulate'));
const resourceTypes = require(path.join(engineDir, 'simulation_engine', 'resourceTypes.js'));
const lookUp = resourceTypes.getResourceTypesForAction;
const lookedUp = new Map();
resourceTypes.getResourceTypesForAction = (service, action, resource) => {
  const key = `${service}:${action} ${resource}`;
  if (!lookedUp.has(key)) lookedUp.set(key, lookUp(service, action, resource));
  return lookedUp.get(key);
};

// Which of an action's resource-type patterns an ARN matches depends on the ARN and the
// patterns only, and many actions share their patterns: one answer per pair serves them all.
const utilsDir = path.dirname(require.resolve('@cloud-copilot/iam-utils', { paths: [engineDir] }));
const utilsTypes = require(path.join(utilsDir, 'resourceTypes.js'));
const matchPatterns = utilsTypes.mostSpecificMatchingResourceTypePatterns;
const matched = new Map();
utilsTypes.mostSpecificMatchingResourceTypePatterns = (resource, patterns) => {
  const key = `${resource}\n${patterns.join('\n')}`;
  if (!matched.has(key)) matched.set(key, matchPatterns(resource, patterns));
  return matched.get(key).slice();
};

// The condition operators are compared without case through String.localeCompare, which
// costs more than the rest of an evaluation; for ASCII text lowercasing gives the same answer.
const policyDir = path.dirname(require.resolve('@cloud-copilot/iam-policy'));
const policyUtils = require(path.join(policyDir, 'utils.js'));
const ASCII = /^[\x00-\x7f]*$/;
const slowEquals = policyUtils.caseInsensitiveEquals;
const slowEndsWith = policyUtils.caseInsensitiveEndsWith;
policyUtils.caseInsensitiveEquals = (first, second) =>
  ASCII.test(first) && ASCII.test(second) ? first.toLowerCase() === second.toLowerCase() : slowEquals(first, second);
policyUtils.caseInsensitiveEndsWith = (value, suffix) =>
  ASCII.test(value) && ASCII.test(suffix)
    ? value.toLowerCase().endsWith(suffix.toLowerCase())
    : slowEndsWith(value, suffix);

// The engine wraps every policy of every request in a new Policy object (its statements, actions
// and resources parsed again); the wrapper depends on the document and its metadata only, and
// the loader below hands the engine the same document objects request after request.
const parser = require(path.join(policyDir, 'parser.js'));
const freshPolicy = parser.loadPolicy;
const loadedPolicies = new WeakMap();
parser.loadPolicy = (document, metadata) => {
  if (document === null || typeof document !== 'object') return freshPolicy(document, metadata);
  const key = metadata === undefined ? '' : JSON.stringify(metadata);
  let byMetadata = loadedPolicies.get(document);
  if (!byMetadata) loadedPolicies.set(document, (byMetadata = new Map()));
  let policy = byMetadata.get(key);
  if (!policy) byMetadata.set(key, (policy = freshPolicy(document, metadata)));
  return policy;
};

const VALIDATORS = {
  identity: iamPolicy.validateIdentityPolicy,
  resource: iamPolicy.validateResourcePolicy,
  scp: iamPolicy.validateServiceControlPolicy,
  rcp: iamPolicy.validateResourceControlPolicy,
};

// An IAM pattern (`*` any run, `?` one character, without case) as a regular expression, made once.
const globs = new Map();
function glob(pattern) {
  let regex = globs.get(pattern);
  if (!regex) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    regex = new RegExp(`^${body}$`, 'i');
    globs.set(pattern, regex);
  }
  return regex;
}

function actionMatches(pattern, action) {
  return glob(pattern).test(action);
}

// A statement whose Action (or NotAction) leaves out the request's action cannot allow or
// deny it: evaluating only the others gives the same decision, faster.
function concerns(statement, action) {
  const list = (value) => (Array.isArray(value) ? value : [value]);
  if (statement.Action !== undefined) return list(statement.Action).some((p) => actionMatches(p, action));
  if (statement.NotAction !== undefined) return !list(statement.NotAction).some((p) => actionMatches(p, action));
  return true;
}

// Nor can a statement whose every Resource pattern misses the request's resource. A pattern
// is read as a whole-string glob (`*` crossing `:` and `/`, without case), which matches
// whatever the engine matches segment by segment and more: a statement is left out only when
// the engine could not match it either. Kept whenever that reading is not certain: a
// NotResource, a policy variable (`${...}`), a short ARN (the engine pads it with `*`), or a
// request resource that is itself a pattern (the caller's test). Worked out once per statement.
function resourceTest(statement) {
  if (statement.Resource === undefined) return () => true;
  const list = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
  if (list.some((p) => typeof p !== 'string' || p.includes('$') || p.split(':').length < 6)) return () => true;
  const regexes = list.map(glob);
  return (resource) => regexes.some((regex) => regex.test(resource));
}

// Policies of which no statement can apply to the request (the placeholder kept below).
const inapplicable = new WeakSet();

function loader(documents) {
  // kind, ref, action -> the statements that concern the action, and what was chosen for each resource
  const byAction = new Map();
  return (kind, ref, action, resource) => {
    const actionKey = `${kind} ${ref} ${action}`;
    let entry = byAction.get(actionKey);
    if (!entry) {
      const document = documents[ref];
      if (document === undefined) throw new Error(`policy reference ${ref} is not in the batch`);
      const all = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
      const candidates = all
        .map((statement, index) => ({ statement, index }))
        .filter(({ statement }) => concerns(statement, action))
        .map(({ statement, index }) => ({ index, keep: resourceTest(statement) }));
      entry = { document, all, candidates, chosen: new Map(), validated: new Map() };
      byAction.set(actionKey, entry);
    }
    let policy = entry.chosen.get(resource);
    if (policy) return policy;
    const anyResource = /[*?]/.test(resource);
    const kept = entry.candidates.filter((c) => anyResource || c.keep(resource)).map((c) => c.index);
    const keptKey = kept.join(',');
    policy = entry.validated.get(keptKey);
    if (!policy) {
      const { document, all } = entry;
      // A policy with no statement is invalid: keep one that does not apply to the request.
      const body = { ...document, Statement: kept.length ? kept.map((i) => all[i]) : all.slice(0, 1) };
      policy = iamPolicy.createValidatedPolicy(body, VALIDATORS[kind]);
      if (!kept.length) inapplicable.add(policy);
      entry.validated.set(keptKey, policy);
    }
    entry.chosen.set(resource, policy);
    return policy;
  };
}

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
    ['scp', a.scpAnalysis],
    ['rcp', a.rcpAnalysis],
  ];
  const out = [];
  for (const [kind, analysis] of kinds) {
    for (const s of statements(analysis, kind)) out.push({ kind, ...s });
  }
  return out;
}

function resolve(simulation, load) {
  const action = simulation.request.action;
  const resource = simulation.request.resource.resource;
  const named = (kind) => (p) => ({ name: p.name, policy: load(kind, p.ref, action, resource) });
  const orgs = (kind) => (o) => ({ orgIdentifier: o.orgIdentifier, policies: o.policies.map(named(kind)) });
  // An identity policy none of whose statements applies neither allows nor denies: leaving it
  // out gives the same decision (one is kept, the engine wants at least one). Not so for a
  // boundary or an organization policy, where a policy that allows nothing denies.
  const identity = simulation.identityPolicies.map(named('identity'));
  const applicable = identity.filter((p) => !inapplicable.has(p.policy));
  const out = { ...simulation, identityPolicies: applicable.length ? applicable : identity.slice(0, 1) };
  if (simulation.permissionBoundaryPolicies) {
    out.permissionBoundaryPolicies = simulation.permissionBoundaryPolicies.map(named('identity'));
  }
  out.serviceControlPolicies = (simulation.serviceControlPolicies || []).map(orgs('scp'));
  out.resourceControlPolicies = (simulation.resourceControlPolicies || []).map(orgs('rcp'));
  if (simulation.resourcePolicyRef !== undefined) {
    out.resourcePolicy = load('resource', simulation.resourcePolicyRef, action, resource);
    delete out.resourcePolicyRef;
  }
  return out;
}

// The older form, a plain array of requests with every policy inline: given references here.
let inlined = 0; // across lines: a reference names one document for the whole run
function byReference(requests) {
  const policies = {};
  const ref = (document) => {
    const key = `inline-${inlined++}`;
    policies[key] = document;
    return key;
  };
  const named = (list) => (list || []).map((p) => ({ name: p.name, ref: ref(p.policy) }));
  const orgs = (list) => (list || []).map((o) => ({ orgIdentifier: o.orgIdentifier, policies: named(o.policies) }));
  return {
    policies,
    requests: requests.map(({ id, simulation }) => {
      const out = {
        ...simulation,
        identityPolicies: named(simulation.identityPolicies),
        serviceControlPolicies: orgs(simulation.serviceControlPolicies),
        resourceControlPolicies: orgs(simulation.resourceControlPolicies),
      };
      if (simulation.permissionBoundaryPolicies) out.permissionBoundaryPolicies = named(simulation.permissionBoundaryPolicies);
      if (simulation.resourcePolicy) {
        out.resourcePolicyRef = ref(simulation.resourcePolicy);
        delete out.resourcePolicy;
      }
      return { id, simulation: out };
    }),
  };
}

async function main() {
  const documents = {};
  const load = loader(documents);
  const answers = [];
  const decide = async ({ id, simulation }) => {
    const response = await runSimulation(resolve(simulation, load), {});
    if (response.resultType === 'error') {
      answers.push({ id, decision: 'error', errors: response.errors, deciding: [] });
    } else if (response.resultType === 'single') {
      answers.push({ id, decision: response.overallResult, errors: null, deciding: deciding(response.result) });
    } else {
      answers.push({ id, decision: response.overallResult, errors: null, deciding: [] });
    }
  };
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const parsed = JSON.parse(line);
    const batch = Array.isArray(parsed) ? byReference(parsed) : parsed;
    Object.assign(documents, batch.policies || {});
    if (batch.requests) {
      for (const request of batch.requests) await decide(request);
    } else if (batch.simulation) {
      await decide(batch);
    }
  }
  process.stdout.write(JSON.stringify(answers));
}

main().catch((error) => {
  process.stderr.write(`simulate.cjs: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
