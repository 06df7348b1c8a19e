/** The database of a one-off CLI command: opened and migrated for `run`, closed after it. */
import { connectDatabase, type Db } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';

/** Opens the database at `url`, applies pending migrations, runs `run`, and closes it. */
export async function withDatabase<T>(url: string, run: (db: Db) => Promise<T>): Promise<T> {
  const db = await connectDatabase(url);
  try {
    await migrate(db);
    return await run(db);
  } finally {
    await db.close();
  }
}
