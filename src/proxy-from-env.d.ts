// proxy-from-env 2.x ships no types.
declare module 'proxy-from-env' {
  /** The proxy URL for `url` per HTTP(S)_PROXY / ALL_PROXY / NO_PROXY, or '' for a direct connection. */
  export function getProxyForUrl(url: string | URL): string;
}
