// Waits until a freshly started broker (or cluster) really answers Kafka requests.
// Usage: node --import tsx scripts/kafka/wait-ready.ts <bootstrap> <brokerCount> <timeoutSeconds> <pid,pid,...> [nodeId]
// Exit codes (used by scripts/kafka.sh): 0 ready, 2 a broker process died, 3 timed out, 64 bad arguments.
// Ready means: a metadata request through <bootstrap> lists at least <brokerCount> live brokers, and, when nodeId is
// given (a restarted cluster node), that node is back in the in-sync replica set of every partition it replicates.
// On a fresh start it also warms up the group and transaction coordinators (see warmUpCoordinators).
import { Kafka, logLevel, type Admin } from 'kafkajs';

const EXIT_DIED = 2;
const EXIT_TIMEOUT = 3;
const EXIT_USAGE = 64;

interface Args { bootstrap: string; brokers: number; timeoutMs: number; pids: number[]; catchUpNode?: number }

function parseArgs(argv: string[]): Args {
  const [bootstrap, brokers, timeout, pids, node] = argv;
  const catchUpNode = node === undefined ? undefined : Number(node);
  const brokerCount = Number(brokers);
  const timeoutSeconds = Number(timeout);
  const pidList = (pids ?? '').split(',').filter(Boolean).map(Number);
  if (!bootstrap || !Number.isInteger(brokerCount) || brokerCount < 1 || !(timeoutSeconds > 0)
    || pidList.some((p) => !Number.isInteger(p) || p <= 0)
    || (catchUpNode !== undefined && !Number.isInteger(catchUpNode))) {
    console.error('usage: wait-ready.ts <bootstrap> <brokerCount> <timeoutSeconds> <pid,pid,...> [nodeId]');
    process.exit(EXIT_USAGE);
  }
  return { bootstrap, brokers: brokerCount, timeoutMs: timeoutSeconds * 1000, pids: pidList, catchUpNode };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const WARMUP_ID = 'kafka-sh-warmup';

/**
 * The first group lookup and the first InitProducerId create __consumer_offsets and __transaction_state; until their
 * coordinators have loaded, clients get COORDINATOR_NOT_AVAILABLE / COORDINATOR_LOAD_IN_PROGRESS, and kafkajs gives
 * up after a few retries on a loaded machine. Both topics have one partition (server.properties), so once one group
 * and one transactional id work, every group and transactional id does. Throws while they are not ready.
 */
async function warmUpCoordinators(kafka: Kafka, admin: Admin): Promise<void> {
  await admin.describeGroups([WARMUP_ID]);
  // kafkajs refuses an idempotent producer without retries; the caller's loop retries anyway, so keep them few.
  const producer = kafka.producer({
    transactionalId: WARMUP_ID, idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 },
  });
  try {
    await producer.connect();
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** Undefined when ready, else what is still missing. */
async function notReadyReason(args: Args): Promise<string | undefined> {
  const kafka = new Kafka({
    clientId: 'pika-connect-wait-ready',
    brokers: args.bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length < args.brokers) return `${cluster.brokers.length} of ${args.brokers} brokers registered`;
    if (args.catchUpNode === undefined) {
      await warmUpCoordinators(kafka, admin);
      return undefined;
    }
    const node = args.catchUpNode;
    const { topics } = await admin.fetchTopicMetadata();
    const behind = topics.flatMap((t) => t.partitions
      .filter((p) => p.replicas.includes(node) && !p.isr.includes(node))
      .map((p) => `${t.name}-${p.partitionId}`));
    return behind.length === 0 ? undefined : `node ${node} not yet in sync for ${behind.slice(0, 5).join(', ')}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const deadline = Date.now() + args.timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    const dead = args.pids.filter((pid) => !isAlive(pid));
    if (dead.length > 0) {
      console.error(`broker process ${dead.join(',')} exited during startup`);
      process.exit(EXIT_DIED);
    }
    try {
      const reason = await notReadyReason(args);
      if (reason === undefined) return;
      lastProblem = reason;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await sleep(500);
  }
  console.error(`broker at ${args.bootstrap} not ready after ${args.timeoutMs / 1000}s: ${lastProblem}`);
  process.exit(EXIT_TIMEOUT);
}

await main();
