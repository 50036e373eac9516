'use strict';
// A loopback TCP proxy the fault tests put between their clients and the
// stack's public port. Each accepted connection is a link the test can
// black-hole (nothing crosses any more in either direction, and neither
// socket is read, but both stay open: no FIN, no RST, like a network that
// silently vanished) or cut (both sockets destroyed at once, as when a
// network device resets the connection). Closing the proxy ends all links.
//
// Node built-ins only.

const net = require('node:net');

/*
 * One proxied connection: client <-> proxy <-> upstream.
 * state: 'open', then 'blackhole' or 'cut' (set by the test), or 'closed'
 * (one side ended it and the other was told).
 */
class Link {
  constructor(proxy, id, client) {
    this.proxy = proxy;
    this.id = id;
    this.client = client;
    this.clientPort = client.remotePort;
    this.state = 'open';
    this.bytesUp = 0;
    this.bytesDown = 0;
    this.upstream = net.connect({ host: '127.0.0.1', port: proxy.target, allowHalfOpen: true });
    this.forward(client, this.upstream, 'bytesUp');
    this.forward(this.upstream, client, 'bytesDown');
  }

  // Copy from one socket to the other while the link is open, with
  // back-pressure, and pass on a half-close or the end of either side.
  forward(from, to, counter) {
    from.on('data', (chunk) => {
      if (this.state !== 'open') return;	// black-holed: dropped
      this[counter] += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => { if (this.state === 'open') from.resume(); });
      }
    });
    from.on('end', () => { if (this.state === 'open') to.end(); });
    from.on('error', () => {});	// reported by 'close'
    from.on('close', () => {
      if (this.state !== 'open') return;
      this.state = 'closed';
      to.destroy();
      this.proxy.links.delete(this);
    });
  }

  /** Stop forwarding and reading on both sides; keep both sockets open. */
  blackhole() {
    if (this.state !== 'open') return;
    this.state = 'blackhole';
    this.client.pause();
    this.upstream.pause();
  }

  /** Destroy both sockets. */
  cut() {
    if (this.state === 'cut') return;
    this.state = 'cut';
    this.client.destroy();
    this.upstream.destroy();
    this.proxy.links.delete(this);
  }
}

/**
 * Listen on a free port of 127.0.0.1 and forward every connection to
 * 127.0.0.1:targetPort. Resolves to the proxy:
 *   port            where clients connect
 *   target          the port new links go to (may be changed)
 *   links           the links not yet ended
 *   linkFor(port)   the link whose client side is that local port of a client
 *   blackholeAll(), cutAll()
 *   close()         stops listening and cuts every link (black-holed ones too)
 */
function startProxy(targetPort) {
  return new Promise((resolve, reject) => {
    let nextId = 0;
    const proxy = {
      port: 0,
      target: targetPort,
      links: new Set(),
      accepted: 0,
      linkFor(clientPort) {
        for (const link of proxy.links) if (link.clientPort === clientPort) return link;
        return null;
      },
      blackholeAll() { for (const link of [...proxy.links]) link.blackhole(); },
      cutAll() { for (const link of [...proxy.links]) link.cut(); },
      close() {
        proxy.cutAll();
        return new Promise((done) => server.close(() => done()));
      },
    };
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      proxy.accepted += 1;
      proxy.links.add(new Link(proxy, ++nextId, client));
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      proxy.port = server.address().port;
      resolve(proxy);
    });
  });
}

module.exports = { startProxy };
