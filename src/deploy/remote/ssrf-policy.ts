/**
 * @module ssrf-policy: which addresses the gateway refuses to contact on a caller's behalf, decided once from the
 * configuration. Every outbound path (the data plane's connection pools, health probes, status probes, the edge's
 * passive health) takes its guard from here, so `MCP_GATEWAY_ALLOW_LINK_LOCAL` means the same thing everywhere.
 */
import { blockedAddressReason, blockedUrlReason } from './blocked-address.js';

/** Why a resolved address or a URL may not be contacted; absent guards allow everything. */
export interface SsrfPolicy {
  /** Checked on every resolved IP address before a connection opens (names that resolve to metadata addresses). */
  readonly refuseAddress?: (address: string) => string | undefined;
  /** Checked on a URL before it is registered or contacted (literal addresses and metadata host names). */
  readonly refuseUrl?: (url: string) => string | undefined;
}

const GUARDED: SsrfPolicy = Object.freeze({
  refuseAddress: blockedAddressReason,
  refuseUrl: blockedUrlReason,
});

/** The guards of a gateway configured with `allowLinkLocal` (`MCP_GATEWAY_ALLOW_LINK_LOCAL`); none when it is set. */
export function ssrfPolicy(config: { readonly allowLinkLocal: boolean }): SsrfPolicy {
  return config.allowLinkLocal ? {} : GUARDED;
}
