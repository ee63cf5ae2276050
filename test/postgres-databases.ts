/** @module postgres-databases: throw-away databases on the test Postgres server (`TEST_DATABASE_URL`). */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

const quiet = { onnotice: () => {} };

/** Creates throw-away databases on the test server and drops them all at the end. */
export class TestDatabases {
  private readonly created: string[] = [];
  private admin: postgres.Sql | undefined;

  constructor(private readonly url: string) {}

  async create(): Promise<string> {
    this.admin ??= postgres(this.url, { ...quiet, max: 1 });
    const name = `mcpgw_${randomBytes(6).toString('hex')}`;
    await this.admin.unsafe(`create database ${name} template template0 encoding 'UTF8'`);
    this.created.push(name);
    const url = new URL(this.url);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async dropAll(): Promise<void> {
    if (!this.admin) return;
    for (const name of this.created) await this.admin.unsafe(`drop database if exists ${name} with (force)`);
    await this.admin.end({ timeout: 5 });
  }
}
