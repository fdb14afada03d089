// Validates Backstage catalog entities (a JSON array in the file argv[3]) with the JSON schemas
// and field-format policy of @backstage/catalog-model (the package directory argv[2]), as the
// catalog does on ingestion; every dependsOn must name an entity of the same file.
const [, , modelDir, file] = process.argv;
const m = require(modelDir);
const entities = JSON.parse(require('fs').readFileSync(file, 'utf8'));
(async () => {
  const envelope = m.entityEnvelopeSchemaValidator();
  const entity = m.entitySchemaValidator();
  const kinds = [m.componentEntityV1alpha1Validator, m.resourceEntityV1alpha1Validator];
  const policy = new m.FieldFormatEntityPolicy();
  const refs = new Set(entities.map((e) => `${e.kind.toLowerCase()}:${e.metadata.name}`));
  for (const e of entities) {
    const where = `${e.kind}/${e.metadata && e.metadata.name}`;
    try {
      envelope(e);
      entity(e);
      let accepted = false;
      for (const k of kinds) {
        if (await k.check(e)) accepted = true;
      }
      if (!accepted) throw new Error(`no kind validator accepts kind ${e.kind}`);
      await policy.enforce(e);
      for (const r of e.spec.dependsOn || []) {
        if (!refs.has(r)) throw new Error(`dependsOn ${r} names no entity of the file`);
      }
    } catch (err) {
      console.error(`${where}: ${err.message || err}`);
      process.exit(1);
    }
  }
  console.log(`${entities.length} entities valid`);
})();
