/**
 * The lean client spread over several gateways that serve one store: request n
 * goes to endpoint n mod N, the way a round-robin load balancer would send it,
 * without a balancer process of its own competing for the cores. Each endpoint
 * keeps its own keep-alive connections. A GET usually lands on another gateway
 * than the PUT it verifies, so the bench also checks that every gateway serves
 * what any other wrote.
 */
import { LeanS3Client, type LeanClientOptions, type LeanResponse, type S3Endpoint } from './leanClient.js';

export class RoundRobinS3Client extends LeanS3Client {
  private readonly targets: LeanS3Client[];
  private next = 0;
  /** Requests sent to each endpoint, in the order given. */
  readonly sent: number[];

  constructor(endpoints: readonly S3Endpoint[], opts: LeanClientOptions = {}) {
    if (endpoints.length === 0) throw new RangeError('round robin over no endpoints');
    super(endpoints[0], opts);
    this.targets = endpoints.map((e) => new LeanS3Client(e, opts));
    this.sent = endpoints.map(() => 0);
  }

  override request(...args: Parameters<LeanS3Client['request']>): Promise<LeanResponse> {
    const i = this.next;
    this.next = (i + 1) % this.targets.length;
    this.sent[i]++;
    return this.targets[i].request(...args);
  }

  /** 503s retried, over every endpoint. */
  override get retried503(): number {
    return this.targets.reduce((n, t) => n + t.retried503, 0);
  }

  override close(): void {
    for (const t of this.targets) t.close();
    super.close();
  }
}
