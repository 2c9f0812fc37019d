// `npm run schema`: writes schema/grpcforge.schema.json from the zod schema in src/config/schema.ts (built to dist).
import { writeFileSync } from 'node:fs';
import { buildConfigJsonSchema } from '../dist/config/schema.js';

const path = new URL('../schema/grpcforge.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(buildConfigJsonSchema(), null, 2)}\n`);
console.log('wrote schema/grpcforge.schema.json');
