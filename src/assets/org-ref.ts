/** Organizations as requests name them: by id or by name. */
import type { AssetRepository } from '#src/assets/assets.repository.js';
import { AppError } from '#src/http/errors.js';

/** The id of the organization `ref` names (id or name); undefined for none; 404 when unknown. */
export async function orgIdOf(
  assets: AssetRepository,
  ref: string | undefined,
): Promise<string | undefined> {
  if (ref === undefined || ref === '') return undefined;
  const org = await assets.findOrganization(ref);
  if (org === undefined)
    throw new AppError('not_found', 404, `no organization ${JSON.stringify(ref)}`);
  return org.id;
}
