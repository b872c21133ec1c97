import { Global, type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { levels, pino, stdTimeFunctions, type Logger as Pino } from 'pino';
import { createRequire } from 'node:module';
import type PinoPrettyModule from 'pino-pretty';
import type { Settings } from '../config/settings.js';
import { AppLogger } from './app-logger.js';

/** Never written to a log, wherever they appear in a logged object. */
const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
];

/**
 * The root pino logger. JSON lines for machines; on a terminal, readable lines written
 * synchronously, so that the first-admin box (written straight to stdout) keeps its place.
 */
export function createRootLogger(log: Settings['log']): Pino {
  const options = {
    level: log.level,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED, censor: '[redacted]' },
  };
  if (log.format === 'pretty') {
    // Loaded only for this format (development): production writes JSON and never needs it.
    const PinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPrettyModule;
    return pino(
      options,
      PinoPretty({
        sync: true,
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        // The request line says it all in its message; other fields of an object still show.
        ignore: 'pid,hostname,context,requestId,method,route,status,ms,ip',
        messageFormat: '{if context}[{context}] {end}{msg}{if requestId} · {requestId}{end}',
      }),
    );
  }
  return pino(options);
}

/**
 * nestjs-pino for every Nest log, with a request-scoped logger that carries only the request id
 * (never headers or bodies). The one line per request is written by the HTTP layer
 * (see app.setup.ts), where the route template and the final status are known.
 */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(log: Settings['log']): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: createRootLogger(log),
            autoLogging: false,
            quietReqLogger: true,
            customAttributeKeys: { reqId: 'requestId' },
          },
        }),
      ],
      providers: [AppLogger],
      exports: [AppLogger],
    };
  }
}

/** Whether a logger at `level` writes lines of `line`'s level (pino's order of levels). */
export function levelWrites(level: Settings['log']['level'], line: 'info' | 'debug'): boolean {
  return levels.values[level] <= levels.values[line];
}
