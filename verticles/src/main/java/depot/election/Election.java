package depot.election;

import depot.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * Rank-based leader election among the nodes of one group (the coordinators, or the directories), in the
 * style of the bully algorithm: the live, eligible candidate with the highest rank leads.
 *
 * <p>Every candidate publishes a beacon on {@code depot.election.<group>} each interval; a candidate whose
 * beacon is older than the expiry period is dead. A candidate takes over only when no live candidate claims
 * the lead, so a leader is always released (stepped down, or dead) before the next one serves. A leader steps
 * down when an eligible candidate outranks it, or when it meets a leader of a later term (a healed split).
 * Each takeover starts a new term; results are announced on {@link Addresses#ELECTION_EVENTS}.
 *
 * <p>Without a {@link Candidate} it only watches: the gateway uses that to mark the leader in node lists.
 */
public final class Election {
  private static final Logger log = LoggerFactory.getLogger(Election.class);

  /** What a node that can lead does when it wins or loses. Called on the election's event loop. */
  public interface Candidate {
    /**
     * Becomes the leader: catch up, then serve. It may lead in a later term than proposed (one its state has
     * seen) and answers the term it leads in. A failure leaves it a standby.
     */
    Future<Long> takeOver(long proposedTerm);

    /** Stops serving and finishes what is in flight. */
    Future<Void> stepDown();

    /** Whether it is in step with the current leader (only such a candidate may push a live leader aside). */
    boolean inSync();

    /** How far its state goes (the catalog's Lamport clock), shown in beacons. */
    long progress();
  }

  /** A beacon as received: who, rank, whether leading and in which term. */
  public record Beacon(String nodeId, int rank, long term, boolean leader, boolean eligible, long progress,
                       long receivedAt) {
    static Beacon from(JsonObject json, long now) {
      return new Beacon(json.getString("nodeId"), json.getInteger("rank", 0), json.getLong("term", 0L),
          json.getBoolean("leader", false), json.getBoolean("eligible", false), json.getLong("progress", 0L), now);
    }

    JsonObject toJson() {
      return new JsonObject().put("nodeId", nodeId).put("rank", rank).put("term", term).put("leader", leader)
          .put("eligible", eligible).put("progress", progress);
    }

    /** Highest rank first; the node id breaks ties so every node orders candidates the same way. */
    static final Comparator<Beacon> PRECEDENCE = Comparator.comparingInt(Beacon::rank).thenComparing(Beacon::nodeId);
  }

  private final Vertx vertx;
  private final String group;
  private final String nodeId;
  private final IntSupplier rank;
  private final Candidate candidate;
  private final long intervalMs;
  private final long expiryMs;
  private final Map<String, Beacon> peers = new HashMap<>();
  private MessageConsumer<Object> consumer;
  private long timer = -1;
  private long startedAt;
  private boolean leading;
  private boolean changing;
  /** The term being taken over, while {@link Candidate#takeOver} runs (0 otherwise): beacons claim it already. */
  private long claiming;
  /** A trigger that arrived while this node was taking over: it steps down once it leads. */
  private boolean triggerPending;
  private long term;
  private long highestTerm;

  public Election(Vertx vertx, String group, String nodeId, IntSupplier rank, Candidate candidate,
                  long intervalMs, long expiryMs) {
    this.vertx = vertx;
    this.group = group;
    this.nodeId = nodeId;
    this.rank = rank;
    this.candidate = candidate;
    this.intervalMs = intervalMs;
    this.expiryMs = expiryMs;
  }

  /** A watcher: follows the beacons of a group without standing. */
  public static Election watcher(Vertx vertx, String group, long intervalMs, long expiryMs) {
    return new Election(vertx, group, null, () -> 0, null, intervalMs, expiryMs);
  }

  public Future<Void> start() {
    startedAt = System.currentTimeMillis();
    consumer = vertx.eventBus().consumer(Addresses.election(group), this::onMessage);
    timer = vertx.setPeriodic(intervalMs, id -> round());
    return consumer.completion().onSuccess(v -> {
      if (candidate != null) {
        publishBeacon();
      }
    });
  }

  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    Future<Void> down = leading ? candidate.stepDown() : Future.succeededFuture();
    leading = false;
    return down.compose(v -> consumer == null ? Future.succeededFuture() : consumer.unregister());
  }

  public boolean leading() {
    return leading;
  }

  public long term() {
    return leading ? term : highestTerm;
  }

  /** The live candidate that claims the lead (the latest term wins if two claim it). */
  public Optional<Beacon> leader() {
    prune();
    Optional<Beacon> other = peers.values().stream().filter(Beacon::leader)
        .max(Comparator.comparingLong(Beacon::term).thenComparing(Beacon.PRECEDENCE));
    if (leading && (other.isEmpty() || other.get().term() <= term)) {
      return Optional.of(self());
    }
    return other;
  }

  /** The group as this node sees it: every live candidate, the leader and the term. */
  public JsonObject describe() {
    prune();
    JsonArray candidates = new JsonArray();
    peers.values().stream().sorted(Beacon.PRECEDENCE.reversed()).forEach(b -> candidates.add(b.toJson()
        .put("lastBeacon", Instant.ofEpochMilli(b.receivedAt()).toString())));
    if (candidate != null) {
      candidates.add(self().toJson().put("self", true));
    }
    Optional<Beacon> leader = leader();
    return new JsonObject().put("group", group).put("leader", leader.map(Beacon::nodeId).orElse(null))
        .put("term", leader.map(Beacon::term).orElse(highestTerm)).put("candidates", candidates);
  }

  /** Asks the group for a fresh election: the leader steps down, and the best candidate takes over in a new term. */
  public void trigger() {
    vertx.eventBus().publish(Addresses.election(group), new JsonObject().put("trigger", true));
  }

  private Beacon self() {
    // Out of step, a candidate may still lead when nobody does, but only after listening long enough to know.
    boolean eligible = leading || candidate.inSync() || listened() && peers.values().stream().noneMatch(Beacon::leader);
    // A takeover (catching up the catalog) takes a while: claiming the lead meanwhile keeps a candidate
    // that decides a moment later from taking over too.
    boolean claims = leading || claiming > 0;
    return new Beacon(nodeId, rank.getAsInt(), leading ? term : claims ? claiming : highestTerm, claims, eligible,
        candidate.progress(), System.currentTimeMillis());
  }

  private void onMessage(Message<Object> msg) {
    if (!(msg.body() instanceof JsonObject body)) {
      return; // not a beacon: ignored, it changes nothing
    }
    if (body.getBoolean("trigger", false)) {
      if (leading && !changing) {
        log.info("{} election triggered: {} steps down", group, nodeId);
        stepDown();
      } else if (claiming > 0) {
        triggerPending = true; // the term being taken over counts as the current one: it must end too
      }
      return;
    }
    String from = body.getString("nodeId");
    if (from == null || from.equals(nodeId) || !(body.getValue("term") instanceof Number)) {
      return;
    }
    Beacon beacon = Beacon.from(body, System.currentTimeMillis());
    peers.put(from, beacon);
    highestTerm = Math.max(highestTerm, beacon.term());
  }

  private void prune() {
    long now = System.currentTimeMillis();
    peers.values().removeIf(b -> now - b.receivedAt() >= expiryMs);
  }

  private void round() {
    prune();
    if (candidate == null) {
      return;
    }
    if (!changing) {
      decide();
    }
    publishBeacon();
  }

  private void decide() {
    Beacon me = self();
    Optional<Beacon> claim = peers.values().stream().filter(Beacon::leader)
        .max(Comparator.comparingLong(Beacon::term).thenComparing(Beacon.PRECEDENCE));
    Optional<Beacon> best = peers.values().stream().filter(Beacon::eligible)
        .max(Beacon.PRECEDENCE).filter(b -> !me.eligible() || Beacon.PRECEDENCE.compare(b, me) > 0);
    if (leading) {
      if (claim.isPresent() && (claim.get().term() > term
          || claim.get().term() == term && Beacon.PRECEDENCE.compare(claim.get(), me) > 0)) {
        log.warn("{} {} meets leader {} of term {}: stepping down", group, nodeId, claim.get().nodeId(), claim.get().term());
        stepDown();
      } else if (best.isPresent() && best.get().eligible()) {
        log.info("{} {} is outranked by {}: handing over", group, nodeId, best.get().nodeId());
        stepDown();
      }
      return;
    }
    if (listened() && claim.isEmpty() && me.eligible() && best.isEmpty()) {
      takeOver(highestTerm + 1);
    }
  }

  /**
   * A newcomer listens for one expiry period first, so it does not claim the lead over a leader it has not
   * heard yet: only that long a silence says a candidate is dead, and a beacon or two may be missed while
   * this node's subscription spreads through the cluster.
   */
  private boolean listened() {
    return System.currentTimeMillis() - startedAt >= expiryMs;
  }

  private void takeOver(long newTerm) {
    changing = true;
    claiming = newTerm;
    triggerPending = false;
    log.info("{} {} (rank {}) takes the lead in term {}", group, nodeId, rank.getAsInt(), newTerm);
    publishBeacon();
    candidate.takeOver(newTerm).onComplete(ar -> {
      changing = false;
      claiming = 0;
      if (ar.succeeded()) {
        leading = true;
        term = Math.max(newTerm, ar.result());
        highestTerm = Math.max(highestTerm, newTerm);
        publishBeacon();
        vertx.eventBus().publish(Addresses.ELECTION_EVENTS, new JsonObject().put("type", "leader.elected")
            .put("group", group).put("leader", nodeId).put("term", term).put("rank", rank.getAsInt()));
        if (triggerPending) {
          log.info("{} election triggered during the takeover: {} steps down", group, nodeId);
          stepDown();
        }
      } else {
        log.warn("{} {} could not take the lead: {}", group, nodeId, ar.cause().getMessage());
      }
    });
  }

  private void stepDown() {
    changing = true;
    leading = false;
    candidate.stepDown().onComplete(ar -> {
      changing = false;
      publishBeacon();
    });
  }

  private void publishBeacon() {
    vertx.eventBus().publish(Addresses.election(group), self().toJson().put("nodeId", nodeId));
  }
}
