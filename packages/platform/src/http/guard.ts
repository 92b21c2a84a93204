import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { CommonErrors } from '../errors.js';
import { bearerToken, requirePermission, type Principal, type TokenVerifier } from './auth.js';
import type { Metrics } from './metrics.js';
import { sendProblem } from './problems.js';

/**
 * The guard on every request: a URL over `maxUrlLength` is answered 414 before anything else; a
 * route that needs a token gets the caller's principal from the verifier (401 without a valid
 * one) and, where it names a permission, 403 unless the principal holds it. The caller's token and
 * identity join the work context (calls onward carry the token; events name the actor).
 */
export const guard = fp<{ verifier: TokenVerifier; metrics: Metrics; maxUrlLength: number }>(
  (app, opts, next) => {
    app.addHook('onRequest', (request, reply, done) => {
      if (request.url.length > opts.maxUrlLength) {
        void sendProblem(request, reply, CommonErrors.uri_too_long()); // answered: the hooks stop here
        return;
      }
      opts.metrics.httpInFlight.inc();
      const cfg = request.routeOptions.config;
      if (cfg.public || (!cfg.permission && !cfg.authenticated)) return done(); // unmatched routes fall through to 404
      let token: string;
      try {
        token = bearerToken(request.headers.authorization);
      } catch (err) {
        return done(err as FastifyError);
      }
      opts.verifier.authenticate(token, (err, principal) => {
        if (err) return done(err as FastifyError);
        const caller = principal as Principal;
        request.principal = caller;
        if (request.workContext) {
          request.workContext.authorization = `Bearer ${token}`;
          request.workContext.actor = caller.sub;
        }
        try {
          if (cfg.permission) requirePermission(caller, cfg.permission);
        } catch (refused) {
          return done(refused as FastifyError);
        }
        done();
      });
    });
    next();
  },
  { name: 'hms-guard' },
);
