/**
 * @module oidc-provider (types): the small part of oidc-provider's API the test authorization server uses.
 * The package ships no TypeScript declarations.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The interaction a user agent is in (login or consent). */
  export interface InteractionDetails {
    readonly uid: string;
    readonly prompt: { readonly name: string; readonly details: Record<string, unknown> };
    readonly params: Record<string, unknown>;
    readonly session?: { readonly accountId?: string };
    readonly grantId?: string;
  }

  /** A grant: what an account allowed a client. */
  export interface Grant {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  /** An access token being issued (its `resourceServer` makes it a JWT for that audience). */
  export interface AccessToken {
    resourceServer: unknown;
    save(): Promise<string>;
  }

  /** OAuth errors a grant handler throws; rendered as the token endpoint's error answer. */
  export const errors: { CustomOIDCProviderError: new (error: string, description: string) => Error };

  /** The authorization server. */
  export default class Provider {
    readonly AccessToken: new (properties: Record<string, unknown>) => AccessToken;
    readonly ResourceServer: new (identifier: string, info: Record<string, unknown>) => unknown;
    readonly Client: { find(id: string): Promise<unknown> };
    registerGrantType(
      name: string,
      handler: (ctx: never) => Promise<void>,
      parameters?: readonly string[],
    ): void;
    constructor(issuer: string, configuration?: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    readonly Grant: GrantConstructor;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
