// Can the master reach the daemon at the ip:port we report? A pushing master connects to the reported node ip
// (3.1–3.4: MetaSync/DBSync `node`; 3.0: TRYSYNC's ip) — it must be an address of this host as the master sees
// it. Errors are certain failures; warnings are setups that may be right (NAT, port forwarding) but often are not.
import { networkInterfaces } from 'node:os';
import { isIP, Socket } from 'node:net';

export interface EndpointCheck {
  level: 'error' | 'warning';
  message: string;
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);
const isUnspecified = (host: string): boolean => host === '0.0.0.0' || host === '::';

/**
 * `ipKey`/`portKey` name the settings in messages. `daemonPort` is where our daemon listens; the check connects to
 * replicaIp:daemonPort once it runs (pass `probe: false` before).
 */
export async function checkReplicaEndpoint(args: {
  replicaIp: string; daemonPort: number; masterHost: string; ipKey: string; portKey: string; probe?: boolean;
}): Promise<EndpointCheck[]> {
  const { replicaIp, daemonPort, masterHost, ipKey } = args;
  const out: EndpointCheck[] = [];
  if (isUnspecified(replicaIp)) {
    out.push({ level: 'error', message: `${ipKey}=${replicaIp} is not an address the master can connect to; set the IP of this host as the master sees it (the master pushes full syncs to ${replicaIp}:${daemonPort})` });
    return out;
  }
  if (isLoopback(replicaIp) && !isLoopback(masterHost)) {
    out.push({ level: 'error', message: `${ipKey}=${replicaIp} is a loopback address but the master (${masterHost}) is another host: it would push the full sync to itself; set the IP of this host as the master sees it` });
    return out;
  }
  if (isIP(replicaIp) !== 0 && !isLoopback(replicaIp)) {
    const local = Object.values(networkInterfaces()).flat().map((i) => i?.address);
    if (!local.includes(replicaIp)) {
      out.push({ level: 'warning', message: `${ipKey}=${replicaIp} is not an address of this host (${local.filter(Boolean).join(', ')}): the master pushes full syncs to ${replicaIp}:${daemonPort}, which must be forwarded here (NAT)` });
    }
  }
  if (args.probe !== false && !(await connects(replicaIp, daemonPort))) {
    out.push({ level: 'warning', message: `this host cannot connect to ${replicaIp}:${daemonPort} itself (the rsync daemon the master pushes full syncs to); check ${ipKey}/${args.portKey} and firewalls` });
  }
  return out;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(2000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => finish(true));
    socket.connect(port, host);
  });
}
