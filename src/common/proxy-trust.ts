import proxyAddr from '@fastify/proxy-addr';

/** Whether the `hop`-th address from our side (0 = the socket's peer) is a proxy we trust. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY as one function, for Fastify (client address, X-Forwarded-Host/Proto) and for
 * the request id alike. The client address is then the first untrusted address walking
 * X-Forwarded-For from the right (the hop nearest to us), never an entry the client wrote
 * before its first proxy.
 */
export function proxyTrust(trustProxy: false | number | string[]): ProxyTrust {
  if (trustProxy === false) {
    return () => false;
  }
  if (typeof trustProxy === 'number') {
    return (_address, hop) => hop < trustProxy;
  }
  return proxyAddr.compile(trustProxy);
}
