// Validates every object in multi-document YAML files (or stdin) against the published
// Kubernetes OpenAPI and Istio CRD schemas, as packaged by the npm packages
// kubernetes-models and @kubernetes-models/istio. Prints one line per object and exits 1 when
// any object is invalid or has no schema.
//
// usage: node validate.mjs FILE... | node validate.mjs < FILE
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const ISTIO_GROUPS = new Set([
  "networking.istio.io",
  "security.istio.io",
  "telemetry.istio.io",
  "extensions.istio.io",
]);

// The module that holds the model of `apiVersion`/`kind`.
function modulePath(apiVersion, kind) {
  const slash = apiVersion.indexOf("/");
  if (slash < 0) return `kubernetes-models/${apiVersion}/${kind}`;
  const group = apiVersion.slice(0, slash);
  let version = apiVersion.slice(slash + 1);
  if (ISTIO_GROUPS.has(group)) {
    // The packaged Istio schemas stop at v1beta1; v1 is the same schema promoted.
    if (version === "v1") version = "v1beta1";
    return `@kubernetes-models/istio/${group}/${version}/${kind}`;
  }
  return `kubernetes-models/${group}/${version}/${kind}`;
}

async function validateObject(object) {
  const { apiVersion, kind } = object ?? {};
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return "no apiVersion or kind";
  }
  let module;
  try {
    module = await import(modulePath(apiVersion, kind));
  } catch {
    return `no schema for ${apiVersion} ${kind}`;
  }
  const Model = module[kind];
  try {
    // Validation only: an Istio v1 object is checked as the v1beta1 object it equals.
    new Model({ ...object, apiVersion: Model.apiVersion }).validate();
  } catch (error) {
    return error.message;
  }
  return null;
}

function inputs() {
  const files = process.argv.slice(2);
  if (files.length === 0) return [["<stdin>", readFileSync(0, "utf8")]];
  return files.map((file) => [file, readFileSync(file, "utf8")]);
}

let failures = 0;
let count = 0;
for (const [name, text] of inputs()) {
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      console.log(`FAIL ${name}: YAML: ${doc.errors[0].message}`);
      failures++;
      continue;
    }
    const object = doc.toJS();
    if (object === null || object === undefined) continue;
    count++;
    const label = `${object.kind} ${object.metadata?.namespace ?? ""}/${object.metadata?.name}`;
    const problem = await validateObject(object);
    if (problem) {
      failures++;
      console.log(`FAIL ${name}: ${label}: ${problem}`);
    } else {
      console.log(`ok ${name}: ${label}`);
    }
  }
}
console.log(`${count} objects, ${failures} invalid`);
process.exit(failures === 0 && count > 0 ? 0 : 1);
