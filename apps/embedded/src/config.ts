import { resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { ServiceConfigKeys, loadConfig } from '@hms/platform';

export const EmbeddedConfig = Type.Object({
  PORT: Type.Integer({
    minimum: 1,
    maximum: 65_000,
    default: 8080,
    description: 'gateway port; services listen on PORT+1…PORT+10',
  }),
  HOST: Type.String({ default: '127.0.0.1', description: 'address every service listens on' }),
  MANAGEMENT_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65_535,
      description:
        'management listener on HOST (/metrics of every service, event administration); default PORT+100',
    }),
  ),
  HMS_DATA_DIR: Type.String({ default: './.data', description: 'embedded data: PGlite, keys' }),
  LOG_LEVEL: Type.String({ default: 'info', description: 'pino log level' }),
  JWT_ISSUER: Type.String({ default: 'hms-auth' }),
  JWT_AUDIENCE: Type.String({ default: 'hms' }),
  SHUTDOWN_TIMEOUT_MS: ServiceConfigKeys.SHUTDOWN_TIMEOUT_MS,
});

export function readEmbeddedConfig(env: NodeJS.ProcessEnv = process.env) {
  const cfg = loadConfig(EmbeddedConfig, env);
  return { ...cfg, HMS_DATA_DIR: resolve(cfg.HMS_DATA_DIR) };
}
