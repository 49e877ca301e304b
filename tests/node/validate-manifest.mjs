// Validates a Teams app manifest against the schema its $schema names, from the schemas
// bundled in @microsoft/app-manifest (offline). Prints a JSON list of errors.
import { readFileSync } from "node:fs";
import { AppManifestUtils } from "@microsoft/app-manifest";

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
const errors = await AppManifestUtils.validateAgainstSchema(manifest);
process.stdout.write(JSON.stringify(errors));
