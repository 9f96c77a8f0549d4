package depot.coordinator;

import depot.config.DepotConfig;
import depot.election.Election;
import depot.node.HeapPressure;
import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.FileNames;
import depot.protocol.NodeUrls;
import depot.protocol.Tokens;
import depot.storage.BlobIds;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;

/**
 * The metadata master: owns the {@link Catalog}, journals every change before acknowledging it, places
 * replicas, runs the deposit protocol (allocate, stream, commit), and keeps every blob at its desired
 * replica count through the {@link ReplicaKeeper}.
 */
public class CoordinatorVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorVerticle.class);
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern CLIENT_ID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private final DepotConfig config;
  private final String nodeId;
  /** The election group of the coordinators ({@code depot.election.coordinator}). */
  public static final String ELECTION_GROUP = "coordinator";

  private final Catalog catalog = new Catalog();
  private final IntSupplier rank;
  private Election election;
  private CatalogFollower follower;
  /** Set while leading: ships operations to the followers. */
  private CatalogReplicator replicator;
  private long term;
  /** Where this leader's catalog stood once it had caught up and took the lead (term, Lamport stamp). */
  private long tookOverAtTerm;
  private long tookOverAtLamport;
  private long firstLeadAttempt;
  private CatalogJournal journal;
  /** The catalog lives in the heap: nearly full, new files and clients are refused rather than timing out. */
  private HeapPressure heap;
  private ReplicaKeeper keeper;
  private final Map<String, StorageNode> storageNodes = new LinkedHashMap<>();
  private final Map<String, Upload> uploads = new HashMap<>();
  private final SuspectNodes suspects;
  /**
   * Commits being journaled, by upload: the same commit sent again meanwhile (the gateway repeats requests
   * when a leader is elected) gets the same answer.
   */
  private final Map<String, Future<JsonObject>> committing = new HashMap<>();
  /** Operations stamped in this event-loop turn, written together at its end ({@link #commit}). */
  private List<Stamped> stamped = new ArrayList<>();

  private record Stamped(JsonObject op, CatalogReplicator shipping, Promise<JsonObject> done) {}

  /** When each client was last authenticated (kept in memory only: it is a courtesy, not catalog state). */
  private final Map<String, Long> lastSeen = new HashMap<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private long nodesTimer;
  private long housekeepingTimer;
  private long clockTimer;
  private ClockSync clocks;
  private long housekeepingRounds;
  /** Every storage node's inventory is compared with the catalog once a minute (housekeeping runs each second). */
  private static final int RECONCILE_EVERY_ROUNDS = 60;
  private static final int FULL_SCAN_EVERY_ROUNDS = 30;

  /** Uploads of announced content under way, for a deposit of the same content begun meanwhile to wait on. */
  private final ContentInFlight contentInFlight = new ContentInFlight();
  /**
   * How long a deposit waits for an upload of the same content to commit before storing its own copy. Below the
   * gateway's 15 s for an answer to the deposit's start.
   */
  private static final long SAME_CONTENT_WAIT_MS = 10_000;

  /** An allocated deposit whose bytes are being streamed; it becomes a file only on commit. */
  private record Upload(String uploadId, String owner, String name, String blobId, long size, int replicas,
                        List<String> nodes, long expiresAt) {}

  public CoordinatorVerticle(DepotConfig config, String nodeId, IntSupplier rank) {
    this.config = config;
    this.nodeId = nodeId;
    this.rank = rank;
    // Long enough for a dead node's record to expire, short enough that a live one is soon trusted again.
    this.suspects = new SuspectNodes(2 * config.nodeExpiryMs());
  }

  /**
   * Every coordinator keeps the catalog (its own journal, followed from the leader while standing by) and
   * stands in the election; only the leader consumes the coordinator addresses.
   */
  @Override
  public Future<?> start() {
    journal = new CatalogJournal(vertx, Path.of(config.dataDir(), "catalog"));
    heap = HeapPressure.shared(config.heapLimitPercent());
    clocks = new ClockSync(vertx, nodeId);
    return journal.open(catalog::apply, catalog::toOps, catalog::appliedLamport)
        .compose(v -> refreshNodes())
        .compose(v -> {
          follower = new CatalogFollower(vertx, nodeId, journal, new CatalogFollower.Replica() {
            @Override
            public void reset(List<JsonObject> ops) {
              catalog.clear();
              ops.forEach(catalog::apply);
            }

            @Override
            public void apply(JsonObject op) {
              catalog.apply(op);
            }

            @Override
            public Future<List<JsonObject>> snapshot() {
              return Future.succeededFuture(catalog.toOps());
            }
          }, config.heartbeatIntervalMs(), catalog.appliedLamport(), catalog.appliedTerm());
          election = new Election(vertx, ELECTION_GROUP, nodeId, rank, new Election.Candidate() {
            @Override
            public Future<Long> takeOver(long term) {
              return lead(term);
            }

            @Override
            public Future<Void> stepDown() {
              return standBy();
            }

            @Override
            public boolean inSync() {
              return follower.inSync();
            }

            @Override
            public long progress() {
              return catalog.appliedLamport();
            }
          }, config.heartbeatIntervalMs(), config.nodeExpiryMs());
          vertx.eventBus().<JsonObject>consumer(Addresses.DIRECTORY_EVENTS, this::onNodeEvent);
          nodesTimer = vertx.setPeriodic(Math.max(250, config.heartbeatIntervalMs()), id -> refreshNodes());
          return follower.start();
        })
        .compose(v -> election.start())
        .onSuccess(v -> log.info("coordinator {} stands by with {} files, {} clients (lamport {})", nodeId,
            catalog.fileCount(), catalog.clients().size(), catalog.appliedLamport()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(nodesTimer);
    heap.close();
    return election.stop().compose(v -> follower.stop()).eventually(() -> journal.close());
  }

  /** Wins the election: catches up from the most advanced copy of the catalog, then serves. */
  private Future<Long> lead(long proposedTerm) {
    follower.pause();
    return catchUpFromBestCopy().compose(latestTerm -> {
      // Terms only grow, also across restarts: followers refuse a leader of a term they have seen pass.
      long newTerm = Math.max(proposedTerm, Math.max(latestTerm, catalog.appliedTerm()) + 1);
      term = newTerm;
      tookOverAtTerm = catalog.appliedTerm();
      tookOverAtLamport = catalog.appliedLamport();
      replicator = new CatalogReplicator(vertx, catalog, nodeId, newTerm, 5 * config.heartbeatIntervalMs(),
          config.catalogEagerCopies());
      keeper = new ReplicaKeeper(vertx, catalog, this::commit, () -> storageNodes,
          () -> uploads.values().stream().map(Upload::blobId).collect(java.util.stream.Collectors.toSet()),
          () -> suspects.at(System.currentTimeMillis()), 2 * config.nodeExpiryMs(),
          new RepairSlots(config.repairStreamsPerNode(), config.repairStreamsTotal()));
      consume(Addresses.CATALOG_FOLLOW, this::follow);
      consume(Addresses.CATALOG_SNAPSHOT, req -> Future.succeededFuture(replicator.page(req)));
      consume(Addresses.COORDINATOR_CLIENT_REGISTER, this::registerClient);
      consume(Addresses.COORDINATOR_CLIENT_AUTHENTICATE, this::authenticate);
      consume(Addresses.COORDINATOR_CLIENT_LIST, this::listClients);
      consume(Addresses.COORDINATOR_DEPOSIT_BEGIN, this::beginDeposit);
      consume(Addresses.COORDINATOR_DEPOSIT_COMMIT, this::commitDeposit);
      consume(Addresses.COORDINATOR_DEPOSIT_ABORT, this::abortDeposit);
      consume(Addresses.COORDINATOR_FILE_LIST, this::list);
      consume(Addresses.COORDINATOR_FILE_LOCATE, this::locate);
      consume(Addresses.COORDINATOR_FILE_DELETE, this::delete);
      consume(Addresses.COORDINATOR_FILE_REPLICAS, this::changeReplicas);
      consume(Addresses.COORDINATOR_REPLICA_CORRUPT, this::replicaCorrupt);
      consume(Addresses.COORDINATOR_NODE_SUSPECT, this::nodeSuspect);
      consume(Addresses.COORDINATOR_STATS, this::stats);
      consume(Addresses.COORDINATOR_CLOCKS, req -> clocks.lastRound().getJsonArray("nodes").isEmpty()
          ? syncClocks() : Future.succeededFuture(clocks.lastRound()));
      clockTimer = vertx.setPeriodic(config.clockSyncIntervalMs(), id -> syncClocks());
      housekeepingTimer = vertx.setPeriodic(1000, id -> housekeeping());
      return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).map(newTerm);
    }).onSuccess(newTerm -> {
      log.info("coordinator {} leads in term {}: {} files, {} clients (lamport {})", nodeId, newTerm,
          catalog.fileCount(), catalog.clients().size(), catalog.appliedLamport());
      keeper.wakeAll();
      reconcileLiveStorage();
    }).recover(err -> standBy().compose(v -> Future.failedFuture(err)));
  }

  /** Loses (or hands over) the lead: stops serving, fails what waits for replication, follows again. */
  private Future<Void> standBy() {
    vertx.cancelTimer(housekeepingTimer);
    vertx.cancelTimer(clockTimer);
    if (replicator != null) {
      replicator.stop();
      replicator = null;
    }
    uploads.clear();
    contentInFlight.clear();
    committing.clear();
    List<MessageConsumer<?>> leaving = List.copyOf(consumers);
    consumers.clear();
    return Future.join(leaving.stream().map(MessageConsumer::unregister).toList()).<Void>mapEmpty()
        .onComplete(ar -> follower.resume());
  }

  /**
   * Asks every other copy of the catalog (standby coordinators, storage nodes) how far it goes and, if one
   * is ahead of this node's, replaces this catalog with it. A coordinator with an empty catalog (a new one,
   * or one that lost its disk) does not lead before it has heard from at least one copy, for a while.
   */
  private Future<Long> catchUpFromBestCopy() {
    return vertx.eventBus().<JsonObject>request(Addresses.DIRECTORY_NODES, new JsonObject(),
            new DeliveryOptions().setSendTimeout(3000))
        .compose(reply -> {
          List<Future<JsonObject>> asked = new ArrayList<>();
          for (Object o : reply.body().getJsonArray("nodes", new JsonArray())) {
            JsonObject n = (JsonObject) o;
            JsonArray roles = n.getJsonArray("roles", new JsonArray());
            boolean keepsCopy = roles.contains(DepotConfig.ROLE_STORAGE) || roles.contains(DepotConfig.ROLE_COORDINATOR);
            if (keepsCopy && "UP".equals(n.getString("status")) && !nodeId.equals(n.getString("id"))) {
              asked.add(vertx.eventBus().<JsonObject>request(Addresses.catalogReplica(n.getString("id")),
                  new JsonObject().put("action", "status"), new DeliveryOptions().setSendTimeout(2000)).map(m -> m.body()));
            }
          }
          return Future.join(asked).transform(ar -> Future.succeededFuture(asked.stream()
              .filter(Future::succeeded).map(Future::result).toList()));
        })
        .recover(err -> Future.succeededFuture(List.of()))
        .compose(copies -> {
          // Two expiry periods: long enough for the nodes of a restarting cluster to register again.
          if (firstLeadAttempt == 0) {
            firstLeadAttempt = System.currentTimeMillis();
          }
          boolean patient = System.currentTimeMillis() < firstLeadAttempt + 2 * config.nodeExpiryMs();
          if (copies.isEmpty() && catalog.appliedLamport() == 0 && patient) {
            return Future.failedFuture("no copy of the catalog answered yet; an empty catalog does not lead so soon");
          }
          long latestTerm = copies.stream().mapToLong(c -> Math.max(c.getLong("term", 0L), c.getLong("leaderTerm", 0L)))
              .max().orElse(0);
          JsonObject best = copies.stream().filter(c -> ahead(c, catalog.appliedTerm(), catalog.appliedLamport()))
              .max(java.util.Comparator.<JsonObject>comparingLong(c -> c.getLong("term", 0L))
                  .thenComparingLong(c -> c.getLong("lamport", 0L)))
              .orElse(null);
          return (best == null ? Future.<Void>succeededFuture() : copyCatalogFrom(best.getString("nodeId"))).map(latestTerm);
        });
  }

  private static boolean ahead(JsonObject copy, long term, long lamport) {
    long t = copy.getLong("term", 0L);
    return t > term || t == term && copy.getLong("lamport", 0L) > lamport;
  }

  private Future<Void> copyCatalogFrom(String source) {
    List<JsonObject> ops = new ArrayList<>();
    return fetchPage(source, 0, ops).compose(v -> journal.replaceWith(ops)).map(v -> {
      catalog.clear();
      ops.forEach(catalog::apply);
      follower.rebased(catalog.appliedLamport(), catalog.appliedTerm());
      log.info("coordinator {} took the catalog from {}: {} files, lamport {}", nodeId, source, catalog.fileCount(),
          catalog.appliedLamport());
      return null;
    });
  }

  private Future<Void> fetchPage(String source, int page, List<JsonObject> into) {
    return vertx.eventBus().<JsonObject>request(Addresses.catalogReplica(source),
            new JsonObject().put("action", "snapshot").put("page", page), new DeliveryOptions().setSendTimeout(30_000))
        .compose(reply -> {
          reply.body().getJsonArray("ops").forEach(o -> into.add((JsonObject) o));
          return page + 1 < reply.body().getInteger("pages", 0) ? fetchPage(source, page + 1, into) : Future.succeededFuture();
        });
  }

  /** A follower asks to follow; one whose copy goes further than this leader's makes it rebuild from that copy. */
  private Future<JsonObject> follow(JsonObject req) {
    if (followerAhead(req.getLong("term", 0L), req.getLong("lamport", 0L), term, catalog.lamport(),
        tookOverAtTerm, tookOverAtLamport)) {
      log.warn("{}'s copy of the catalog (term {}, lamport {}) is ahead of the leader's: re-running the election",
          req.getString("nodeId"), req.getLong("term"), req.getLong("lamport"));
      election.trigger();
      return Future.succeededFuture(new JsonObject().put("leader", nodeId).put("term", term));
    }
    return Future.succeededFuture(replicator.follow(req));
  }

  /**
   * Whether a follower's copy holds operations this leader never had. The leader ships each operation
   * before it applies it (both happen once the leader's and a follower's disks have it), so a follower in
   * step is often a little past the leader's applied state: that is not ahead. Ahead is a copy beyond what
   * this leader issued in its own term ({@code issuedLamport}), of a later term, or beyond the state of an
   * earlier term this leader took over with.
   */
  static boolean followerAhead(long followerTerm, long followerLamport, long leaderTerm, long issuedLamport,
                               long tookOverAtTerm, long tookOverAtLamport) {
    if (followerTerm >= leaderTerm) {
      return followerTerm > leaderTerm || followerLamport > issuedLamport;
    }
    return followerTerm > tookOverAtTerm || followerTerm == tookOverAtTerm && followerLamport > tookOverAtLamport;
  }

  private void consume(String address, Function<JsonObject, Future<JsonObject>> handler) {
    consumers.add(vertx.eventBus().consumer(address, (Message<Object> msg) -> {
      Future<JsonObject> result;
      try {
        if (!(msg.body() instanceof JsonObject body)) {
          throw DepotException.badRequest("expected a JSON object");
        }
        result = handler.apply(body);
      } catch (DepotException e) {
        result = Future.failedFuture(e);
      } catch (AlreadyCommitted e) {
        result = Future.succeededFuture(record(e.file).put("deduplicated", false));
      } catch (RuntimeException e) {
        result = Future.failedFuture(DepotException.badRequest("malformed request: " + e.getMessage()));
      }
      result.onSuccess(msg::reply).onFailure(err -> DepotException.from(err).replyTo(msg));
    }));
  }

  /**
   * Journals an operation here and on a follower, then applies it: nothing is acknowledged before it is on
   * two disks (or on this one while no follower is in sync). Stamped now; written at the end of this turn
   * with whatever else was stamped in it.
   */
  Future<JsonObject> commit(JsonObject op) {
    CatalogReplicator shipping = replicator;
    if (shipping == null) {
      return Future.failedFuture(new DepotException(ErrorCode.NOT_LEADER, "this coordinator does not lead; retry"));
    }
    long lamport = catalog.tick();
    op.put("lamport", lamport).put("term", term).put("ts", System.currentTimeMillis());
    if (stamped.isEmpty()) {
      // The deposits of one pipeline batch commit in messages that arrive together, queued on this event
      // loop: ended after them, this turn writes them in one journal batch and one message to each copy.
      context.runOnContext(v -> flushStamped());
    }
    Promise<JsonObject> done = Promise.promise();
    stamped.add(new Stamped(op, shipping, done));
    return done.future();
  }

  private void flushStamped() {
    List<Stamped> batch = stamped;
    stamped = new ArrayList<>();
    CatalogReplicator shipping = batch.get(0).shipping();
    if (shipping != replicator) {
      // The lead was lost since: nothing of these is written, so a newer leader's stream is never mixed in.
      batch.forEach(s -> s.done().fail(new DepotException(ErrorCode.NOT_LEADER, "this coordinator no longer leads; retry")));
      return;
    }
    List<JsonObject> ops = batch.stream().map(Stamped::op).toList();
    List<Future<Void>> copied = shipping.replicateAll(ops);
    List<Future<Void>> journaled = journal.appendAll(ops);
    for (int i = 0; i < batch.size(); i++) {
      JsonObject op = ops.get(i);
      Future<Void> copy = copied.get(i);
      // Applied once on the leader's disk, so memory matches the journal; acknowledged only once a copy has it
      // too. A change no copy took is answered as an error (it may survive or not, like any unacknowledged one).
      journaled.get(i).map(v -> {
        JsonObject result = catalog.apply(op);
        shipping.applied(op.getLong("lamport"));
        if (Catalog.OP_FILE_PUT.equals(op.getString("op"))) {
          // The record as this deposit left it: a later deposit of the same name in this batch is applied
          // before either is answered, and each must be answered with its own version, size and SHA-256.
          result = record(catalog.file(op.getString("owner"), op.getString("name")));
        }
        return result;
      }).compose(result -> copy.map(result)).onComplete(batch.get(i).done());
    }
  }

  // ---- nodes ----

  private Future<Void> refreshNodes() {
    return vertx.eventBus().<JsonObject>request(Addresses.DIRECTORY_NODES, new JsonObject(),
            new DeliveryOptions().setSendTimeout(5000))
        .map(reply -> {
          Map<String, StorageNode> fresh = new LinkedHashMap<>();
          for (Object o : reply.body().getJsonArray("nodes", new JsonArray())) {
            JsonObject n = (JsonObject) o;
            if (n.getJsonArray("roles", new JsonArray()).contains(DepotConfig.ROLE_STORAGE)) {
              StorageNode s = StorageNode.fromDirectory(n);
              fresh.put(s.id(), s);
            }
          }
          storageNodes.clear();
          storageNodes.putAll(fresh);
          return (Void) null;
        })
        .recover(err -> {
          log.debug("directory not reachable: {}", err.getMessage());
          return Future.succeededFuture();
        });
  }

  private void onNodeEvent(Message<JsonObject> msg) {
    if (keeper == null || replicator == null) {
      refreshNodes();
      return;
    }
    JsonObject node = msg.body().getJsonObject("node");
    String type = msg.body().getString("type");
    if (node != null && node.getString("id") != null) {
      String id = node.getString("id");
      StorageNode known = storageNodes.get(id);
      if (known != null && "node.down".equals(type)) {
        storageNodes.put(known.id(), known.down());
        keeper.nodeDown(known.id());
        keeper.wakeAll();
      }
      boolean storage = node.getJsonArray("roles", new JsonArray()).contains(DepotConfig.ROLE_STORAGE);
      if ("node.up".equals(type) && storage) {
        suspects.clear(id);
        refreshNodes().onComplete(v -> {
          keeper.reconcile(List.of(id));
          // Files short of copies for want of a node to put them on get them now, not at the next full scan.
          keeper.wakeAll();
        });
        return;
      }
    }
    refreshNodes().onComplete(v -> keeper.wakeAll());
  }

  private Set<String> liveNodeIds() {
    Set<String> live = new HashSet<>();
    storageNodes.values().forEach(n -> {
      if (n.up()) {
        live.add(n.id());
      }
    });
    return live;
  }

  // ---- clients ----

  /**
   * Registers a client under the id and token hash the gateway chose. The gateway sends the same request
   * again while leadership moves, and a repeat must not make a second client: a registration that already
   * landed (same id, same token hash) answers as the first one did.
   */
  private Future<JsonObject> registerClient(JsonObject req) {
    String nickname = req.getString("nickname");
    if (nickname == null || nickname.isBlank() || nickname.length() > 64
        || nickname.codePoints().anyMatch(Character::isISOControl)) {
      throw DepotException.badRequest("nickname must be 1-64 printable characters");
    }
    String clientId = req.getString("clientId");
    String tokenHash = req.getString("tokenHash");
    if (clientId == null || !CLIENT_ID.matcher(clientId).matches() || tokenHash == null
        || !SHA256_HEX.matcher(tokenHash).matches()) {
      throw DepotException.badRequest("'clientId' (a UUID) and 'tokenHash' (64 hex digits) are required");
    }
    ClientEntry known = catalog.client(clientId);
    if (known != null) {
      if (!known.tokenHash().equals(tokenHash)) {
        throw new DepotException(ErrorCode.CONFLICT, "client id " + clientId + " is taken");
      }
      return Future.succeededFuture(new JsonObject().put("clientId", clientId).put("nickname", known.nickname())
          .put("createdAt", known.createdAt()));
    }
    requireHeapRoom("new clients");
    String at = Instant.now().toString();
    JsonObject op = new JsonObject().put("op", Catalog.OP_CLIENT_ADD).put("clientId", clientId)
        .put("nickname", nickname.trim()).put("tokenHash", tokenHash).put("at", at);
    return commit(op).map(v -> {
      log.info("client {} registered as '{}'", clientId, nickname);
      return new JsonObject().put("clientId", clientId).put("nickname", nickname.trim()).put("createdAt", at);
    });
  }

  private Future<JsonObject> authenticate(JsonObject req) {
    String token = req.getString("token");
    ClientEntry client = token == null ? null : catalog.clientByTokenHash(Tokens.hash(token));
    if (client == null) {
      throw new DepotException(ErrorCode.UNAUTHORIZED, "unknown client or wrong token");
    }
    lastSeen.put(client.clientId(), System.currentTimeMillis());
    return Future.succeededFuture(client.toJson());
  }

  private ClientEntry requireClient(JsonObject req) {
    String owner = req.getString("owner");
    ClientEntry client = owner == null ? null : catalog.client(owner);
    if (client == null) {
      throw DepotException.notFound("no client with id '" + owner + "'");
    }
    return client;
  }

  // ---- deposits ----

  private int requireReplicas(Object value) {
    if (value == null) {
      return config.defaultReplicas();
    }
    if (!(value instanceof Integer r)) {
      throw new DepotException(ErrorCode.INVALID_REPLICAS, "replicas must be a whole number");
    }
    if (r < 1) {
      throw new DepotException(ErrorCode.INVALID_REPLICAS, "replicas must be at least 1");
    }
    int known = storageNodes.size();
    if (r > config.maxReplicas() || r > known) {
      throw new DepotException(ErrorCode.TOO_MANY_REPLICAS, "asked for " + r + " replicas; this cluster has "
          + known + " storage nodes and allows at most " + Math.min(known, config.maxReplicas()));
    }
    return r;
  }

  private static long requireSize(JsonObject req) {
    Long size = req.getLong("size");
    if (size == null || size < 0) {
      throw DepotException.badRequest("size must be a non-negative number");
    }
    return size;
  }

  static String requireSha256(String sha) {
    if (sha == null || !SHA256_HEX.matcher(sha).matches()) {
      throw DepotException.badRequest("sha256 must be 64 lowercase hex digits");
    }
    return sha;
  }

  /**
   * One request starts a deposit: if the client announced a SHA-256 of content it already holds (with a
   * live replica), the new name (or version) points at it at once and {@code {"record": ...}} comes back;
   * otherwise replicas are placed and {@code {"allocation": ...}} comes back.
   */
  private Future<JsonObject> beginDeposit(JsonObject req) {
    return beginDeposit(req, true);
  }

  /**
   * @param mayWait whether to wait for an upload of the same content by the same client that is under way: then
   *                this deposit points at its replicas once it commits, rather than storing the content again
   */
  private Future<JsonObject> beginDeposit(JsonObject req, boolean mayWait) {
    ClientEntry client = requireClient(req);
    String name = FileNames.requireValid(req.getString("name"));
    long size = requireSize(req);
    int replicas = requireReplicas(req.getValue("replicas"));
    String sha = req.getString("sha256") == null ? null : requireSha256(req.getString("sha256"));
    requireHeapRoom("new files");
    BlobEntry held = sha == null ? null : catalog.contentOf(client.clientId(), sha);
    if (held != null && held.size == size && held.nodes.stream().anyMatch(liveNodeIds()::contains)) {
      return dedup(client, name, sha, size, replicas, held).map(record -> new JsonObject().put("record", record));
    }
    Future<Void> sameContent = sha == null || !mayWait ? null : contentInFlight.pending(client.clientId(), sha);
    if (sameContent != null) {
      // Asked again either way: a dedup if that upload committed, an allocation of its own if it failed or is slow.
      return sameContent.timeout(SAME_CONTENT_WAIT_MS, TimeUnit.MILLISECONDS)
          .transform(ended -> replicator == null
              ? Future.failedFuture(new DepotException(ErrorCode.NOT_LEADER, "this coordinator no longer leads; retry"))
              : beginDeposit(req, false));
    }
    Set<String> exclude = new HashSet<>();
    req.getJsonArray("exclude", new JsonArray()).forEach(n -> exclude.add(String.valueOf(n)));
    return allocate(client, name, size, replicas, exclude, nodesAt(req.getJsonArray("avoid", new JsonArray())))
        .map(allocation -> {
          if (sha != null) {
            contentInFlight.started(client.clientId(), sha, allocation.getString("uploadId"));
          }
          return new JsonObject().put("allocation", allocation);
        });
  }

  private void requireHeapRoom(String what) {
    if (heap.pressed()) {
      throw new DepotException(ErrorCode.INSUFFICIENT_MEMORY, "the coordinator refuses " + what + ": "
          + heap.describe() + "; delete files or restart it with a larger heap (-Xmx)");
    }
  }

  /** The storage nodes registered at these base URLs (a client names them; the others name nothing here). */
  private Set<String> nodesAt(JsonArray urls) {
    if (urls.isEmpty()) {
      return Set.of();
    }
    Set<String> origins = new HashSet<>();
    for (Object url : urls) {
      try {
        origins.add(NodeUrls.origin(String.valueOf(url)));
      } catch (IllegalArgumentException e) {
        throw DepotException.badRequest("avoid: " + e.getMessage());
      }
    }
    Set<String> ids = new HashSet<>();
    for (StorageNode n : storageNodes.values()) {
      try {
        if (n.url() != null && origins.contains(NodeUrls.origin(n.url()))) {
          ids.add(n.id());
        }
      } catch (IllegalArgumentException e) {
        // a node registered with a URL no client could have been sent to
      }
    }
    return ids;
  }

  /** Content this client already holds: a new name (or version) pointing at it, no bytes moved. */
  private Future<JsonObject> dedup(ClientEntry client, String name, String sha, long size, int replicas, BlobEntry blob) {
    JsonObject op = new JsonObject().put("op", Catalog.OP_FILE_PUT).put("owner", client.clientId()).put("name", name)
        .put("blobId", blob.blobId).put("sha256", sha).put("size", size).put("replicas", replicas)
        .put("at", Instant.now().toString());
    keeper.pin(blob.blobId);
    return commit(op)
        .eventually(() -> {
          keeper.unpin(blob.blobId);
          return Future.succeededFuture();
        })
        .map(record -> deposited(record, true));
  }

  /**
   * The storage nodes with the uploads allocated to them and not yet committed counted in: heartbeats only
   * report what is stored, and concurrent deposits should not all pick the same nodes.
   */
  private List<StorageNode> withUploadsInFlight() {
    Map<String, Long> pending = new HashMap<>();
    for (Upload u : uploads.values()) {
      u.nodes().forEach(n -> pending.merge(n, u.size(), Long::sum));
    }
    return storageNodes.values().stream().map(n -> n.withPlaced(pending.getOrDefault(n.id(), 0L))).toList();
  }

  /**
   * @param exclude nodes the gateway could not reach although the directory still lists them as up
   * @param avoid   nodes the client lost in an earlier try: like suspects, used only where the quorum needs them
   *                (a client's word moves its own deposit, never anyone else's)
   */
  private Future<JsonObject> allocate(ClientEntry client, String name, long size, int replicas, Set<String> exclude,
                                      Set<String> avoid) {
    int quorum = config.writeQuorum(replicas);
    Set<String> doubted = suspects.at(System.currentTimeMillis());
    doubted.addAll(avoid);
    List<StorageNode> targets = Placement.chooseAvoiding(withUploadsInFlight(), replicas, quorum, size, exclude, doubted);
    if (targets.size() < quorum) {
      long live = storageNodes.values().stream().filter(StorageNode::up).count();
      long heapFull = storageNodes.values().stream().filter(n -> n.up() && n.heapFull()).count();
      if (live >= quorum && live - heapFull < quorum) {
        throw new DepotException(ErrorCode.INSUFFICIENT_MEMORY, heapFull + " of the " + live + " storage nodes up "
            + "have a heap too full for new replicas; a deposit with " + replicas + " replicas needs " + quorum);
      }
      if (live >= quorum) {
        throw new DepotException(ErrorCode.INSUFFICIENT_STORAGE, "not enough free space for " + size + " bytes");
      }
      throw new DepotException(ErrorCode.UNAVAILABLE, "only " + live + " storage nodes are up; a deposit with "
          + replicas + " replicas needs at least " + quorum);
    }
    String uploadId = UUID.randomUUID().toString();
    String blobId = BlobIds.newId();
    List<String> nodes = targets.stream().map(StorageNode::id).toList();
    uploads.put(uploadId, new Upload(uploadId, client.clientId(), name, blobId, size, replicas, nodes,
        System.currentTimeMillis() + config.allocationTimeoutMs()));
    JsonArray pipeline = new JsonArray();
    targets.forEach(t -> pipeline.add(new JsonObject().put("nodeId", t.id()).put("url", t.url())));
    return Future.succeededFuture(new JsonObject().put("uploadId", uploadId).put("blobId", blobId)
        .put("pipeline", pipeline).put("writeQuorum", quorum).put("replicas", replicas));
  }

  private Future<JsonObject> commitDeposit(JsonObject req) {
    Future<JsonObject> running = committing.get(req.getString("uploadId", ""));
    if (running != null) {
      return running;
    }
    Upload allocated = uploads.get(req.getString("uploadId"));
    Upload upload = allocated != null ? allocated : allocatedByAnEarlierLeader(req);
    String sha = requireSha256(req.getString("sha256"));
    if (req.getLong("size", -1L) != upload.size()) {
      throw new DepotException(ErrorCode.SIZE_MISMATCH, "upload size differs from the allocation");
    }
    List<String> stored = new ArrayList<>();
    req.getJsonArray("stored", new JsonArray()).forEach(n -> {
      if (upload.nodes().contains((String) n)) {
        stored.add((String) n);
      }
    });
    if (stored.size() < config.writeQuorum(upload.replicas())) {
      throw new DepotException(ErrorCode.UNAVAILABLE, "only " + stored.size() + " replicas were written");
    }
    BlobEntry held = catalog.contentOf(upload.owner(), sha);
    if (held != null && !held.blobId.equals(upload.blobId()) && held.size == upload.size()
        && held.nodes.stream().anyMatch(liveNodeIds()::contains)) {
      return keepTheHeldCopy(upload, sha, held);
    }
    Promise<JsonObject> done = Promise.promise();
    committing.put(upload.uploadId(), done.future());
    JsonObject op = new JsonObject().put("op", Catalog.OP_FILE_PUT).put("owner", upload.owner())
        .put("name", upload.name()).put("blobId", upload.blobId()).put("sha256", sha).put("size", upload.size())
        .put("replicas", upload.replicas()).put("nodes", new JsonArray(stored)).put("at", Instant.now().toString());
    // The upload stays registered until the file is in the catalog, so reconciliation never takes its blob for debris.
    commit(op).eventually(() -> {
      forgetUpload(upload.uploadId());
      committing.remove(upload.uploadId());
      return Future.succeededFuture();
    }).map(record -> {
      if (stored.size() < upload.replicas()) {
        keeper.wake(upload.blobId());
      }
      return deposited(record, false);
    }).onComplete(done);
    return done.future();
  }

  /**
   * An upload whose hash was not announced turned out to be content this client already holds: the name points at
   * the replicas held, and the ones just written go (only once the name is committed; a failed commit keeps them,
   * and the client's retry commits the upload as it is).
   */
  private Future<JsonObject> keepTheHeldCopy(Upload upload, String sha, BlobEntry held) {
    Promise<JsonObject> done = Promise.promise();
    committing.put(upload.uploadId(), done.future());
    dedup(catalog.client(upload.owner()), upload.name(), sha, upload.size(), upload.replicas(), held)
        .onSuccess(record -> keeper.deleteReplicas(upload.blobId(), upload.nodes()))
        .eventually(() -> {
          forgetUpload(upload.uploadId());
          committing.remove(upload.uploadId());
          return Future.succeededFuture();
        })
        .onComplete(done);
    return done.future();
  }

  /**
   * A commit for an upload this coordinator never allocated: its predecessor did, then lost the lead while
   * the bytes streamed. The gateway's commit says everything the allocation held, and the replicas are
   * on disk, so the deposit completes here. A commit replayed after it already landed answers the record.
   */
  private Upload allocatedByAnEarlierLeader(JsonObject req) {
    ClientEntry client = requireClient(req);
    String name = FileNames.requireValid(req.getString("name"));
    String blobId = BlobIds.requireValid(req.getString("blobId"));
    FileEntry landed = catalog.file(client.clientId(), name);
    BlobEntry landedContent = landed == null ? null : catalog.blob(landed.blobId);
    // Landed as this upload's blob, or (its content already held, keepTheHeldCopy) as the held one with the same
    // hash: completing it again would point the name at replicas that were dropped.
    if (landed != null && (landed.blobId.equals(blobId)
        || landedContent != null && landedContent.sha256.equals(req.getString("sha256")))) {
      throw new AlreadyCommitted(landed);
    }
    List<String> nodes = new ArrayList<>();
    req.getJsonArray("nodes", new JsonArray()).forEach(n -> {
      if (storageNodes.containsKey(String.valueOf(n))) {
        nodes.add(String.valueOf(n));
      }
    });
    int replicas = requireReplicas(req.getValue("replicas"));
    log.info("completing deposit of '{}' allocated by an earlier leader", name);
    return new Upload(req.getString("uploadId"), client.clientId(), name, blobId, requireSize(req), replicas, nodes,
        System.currentTimeMillis() + config.allocationTimeoutMs());
  }

  /** Thrown when a commit is replayed: its file is already in the catalog. */
  private static final class AlreadyCommitted extends RuntimeException {
    final transient FileEntry file;

    AlreadyCommitted(FileEntry file) {
      super(null, null, false, false);
      this.file = file;
    }
  }

  /** Announces a committed deposit; {@code record}: the file as that commit left it (see flushStamped). */
  private JsonObject deposited(JsonObject record, boolean deduplicated) {
    vertx.eventBus().publish(Addresses.COORDINATOR_EVENTS, new JsonObject().put("type", "file.deposited")
        .put("owner", record.getString("owner")).put("name", record.getString("name")).put("size", record.getLong("size"))
        .put("version", record.getLong("version")).put("deduplicated", deduplicated));
    return record.put("deduplicated", deduplicated);
  }

  /** A node the data path just failed on: deposits avoid it while the directory still lists it as up. */
  private Future<JsonObject> nodeSuspect(JsonObject req) {
    String node = req.getString("node");
    boolean known = node != null && storageNodes.containsKey(node);
    if (known) {
      log.warn("storage node {} suspected: {}", node, req.getString("reason"));
      suspects.suspect(node, System.currentTimeMillis());
    }
    return Future.succeededFuture(new JsonObject().put("suspected", known));
  }

  /** An upload is over (committed, given up or expired): forgotten, and deposits waiting on its content go on. */
  private Upload forgetUpload(String uploadId) {
    Upload upload = uploads.remove(uploadId);
    contentInFlight.ended(uploadId); // after: a deposit that waited may allocate at once, and counts what is in flight
    return upload;
  }

  private Future<JsonObject> abortDeposit(JsonObject req) {
    Upload upload = forgetUpload(req.getString("uploadId", ""));
    if (upload != null) {
      keeper.deleteReplicas(upload.blobId(), upload.nodes());
    }
    return Future.succeededFuture(new JsonObject().put("aborted", upload != null));
  }

  // ---- files ----

  /** The public record of a file. */
  JsonObject record(FileEntry f) {
    BlobEntry b = catalog.blob(f.blobId);
    Set<String> live = liveNodeIds();
    JsonArray nodes = new JsonArray();
    int liveReplicas = 0;
    for (String n : b.nodes) {
      nodes.add(n);
      if (live.contains(n)) {
        liveReplicas++;
      }
    }
    ClientEntry owner = catalog.client(f.owner);
    return new JsonObject()
        .put("name", f.name)
        .put("owner", f.owner)
        .put("ownerNickname", owner != null ? owner.nickname() : null)
        .put("size", b.size)
        .put("sha256", b.sha256)
        .put("replicas", f.replicas)
        .put("liveReplicas", liveReplicas)
        .put("nodes", nodes)
        .put("version", f.version)
        .put("depositedAt", f.depositedAt());
  }

  private FileEntry requireFile(JsonObject req) {
    ClientEntry client = requireClient(req);
    String name = FileNames.requireValid(req.getString("name"));
    FileEntry f = catalog.file(client.clientId(), name);
    if (f == null) {
      // Another client's file of the same name is equally "not found": names never leak across clients.
      throw DepotException.notFound("no file named '" + name + "'");
    }
    return f;
  }

  /** Files of one owner (or all, for the admin), filtered, sorted and paged: {files, total}. */
  private Future<JsonObject> list(JsonObject req) {
    List<FileEntry> files = req.getBoolean("all", false) ? catalog.allFiles() : catalog.files(requireClient(req).clientId());
    FileListing.Page page = FileListing.from(req).apply(files, f -> catalog.blob(f.blobId).size, this::record);
    return Future.succeededFuture(new JsonObject().put("files", page.files()).put("total", page.total()));
  }

  private Future<JsonObject> listClients(JsonObject req) {
    Map<String, long[]> usage = new HashMap<>();
    for (FileEntry f : catalog.allFiles()) {
      long[] u = usage.computeIfAbsent(f.owner, o -> new long[2]);
      u[0]++;
      u[1] += catalog.blob(f.blobId).size;
    }
    JsonArray out = new JsonArray();
    catalog.clients().stream().sorted(java.util.Comparator.comparing(ClientEntry::nickname)).forEach(c -> {
      long[] u = usage.getOrDefault(c.clientId(), new long[2]);
      Long seen = lastSeen.get(c.clientId());
      out.add(c.toJson().put("files", u[0]).put("bytes", u[1])
          .put("lastSeen", seen == null ? null : Instant.ofEpochMilli(seen).toString()));
    });
    return Future.succeededFuture(new JsonObject().put("clients", out));
  }

  private Future<JsonObject> locate(JsonObject req) {
    FileEntry f = requireFile(req);
    BlobEntry b = catalog.blob(f.blobId);
    JsonArray sources = new JsonArray();
    List<String> holders = new ArrayList<>(b.nodes);
    java.util.Collections.shuffle(holders);
    for (String n : holders) {
      StorageNode node = storageNodes.get(n);
      if (node != null && node.up() && node.url() != null) {
        sources.add(new JsonObject().put("nodeId", n).put("url", node.url()));
      }
    }
    return Future.succeededFuture(new JsonObject().put("record", record(f)).put("blobId", b.blobId)
        .put("sources", sources));
  }

  private Future<JsonObject> delete(JsonObject req) {
    FileEntry f = requireFile(req);
    JsonObject op = new JsonObject().put("op", Catalog.OP_FILE_DELETE).put("owner", f.owner).put("name", f.name);
    return commit(op).map(result -> {
      vertx.eventBus().publish(Addresses.COORDINATOR_EVENTS, new JsonObject().put("type", "file.deleted")
          .put("owner", f.owner).put("name", f.name));
      return new JsonObject().put("deleted", true);
    });
  }

  /** Changes the desired count and waits (bounded) until the copies exist, so the caller sees the result. */
  private Future<JsonObject> changeReplicas(JsonObject req) {
    FileEntry f = requireFile(req);
    int replicas = requireReplicas(req.getValue("replicas"));
    JsonObject op = new JsonObject().put("op", Catalog.OP_FILE_REPLICAS).put("owner", f.owner).put("name", f.name)
        .put("replicas", replicas);
    return commit(op)
        .compose(v -> keeper.settle(f.blobId, 60_000))
        .map(v -> {
          JsonObject record = record(f);
          vertx.eventBus().publish(Addresses.COORDINATOR_EVENTS, new JsonObject().put("type", "file.replicas")
              .put("owner", f.owner).put("name", f.name).put("replicas", replicas)
              .put("liveReplicas", record.getInteger("liveReplicas")));
          return record;
        });
  }

  private Future<JsonObject> replicaCorrupt(JsonObject req) {
    String node = req.getString("node");
    String blobId = req.getString("blobId");
    BlobEntry blob = blobId == null ? null : catalog.blob(blobId);
    if (blob != null && node != null && blob.nodes.contains(node)) {
      log.warn("replica of {} on {} is corrupt: dropping it and repairing", blobId, node);
      keeper.dropCorrupt(blob, node);
    }
    return Future.succeededFuture(new JsonObject());
  }

  private Future<JsonObject> stats(JsonObject req) {
    Set<String> live = liveNodeIds();
    long healthy = 0;
    long under = 0;
    long lost = 0;
    long bytes = 0;
    for (FileEntry f : catalog.allFiles()) {
      BlobEntry b = catalog.blob(f.blobId);
      long liveCopies = b.nodes.stream().filter(live::contains).count();
      bytes += b.size;
      if (liveCopies == 0) {
        lost++;
      } else if (liveCopies < f.replicas) {
        under++;
      } else {
        healthy++;
      }
    }
    return Future.succeededFuture(new JsonObject().put("leader", nodeId).put("term", term)
        .put("catalogFollowersInSync", replicator.inSyncFollowers()).put("files", catalog.fileCount())
        .put("clients", catalog.clients().size()).put("bytes", bytes).put("healthy", healthy)
        .put("underReplicated", under).put("lost", lost).put("lamport", catalog.lamport())
        .put("repairsRunning", keeper.repairsRunning())
        .put("repairsByNode", new JsonObject(new HashMap<>(keeper.repairsByNode()))));
  }

  /** A Berkeley round over every live node the directory knows (this node is the reference). */
  private Future<JsonObject> syncClocks() {
    return vertx.eventBus().<JsonObject>request(Addresses.DIRECTORY_NODES, new JsonObject(),
            new DeliveryOptions().setSendTimeout(5000))
        .compose(reply -> {
          List<String> live = new ArrayList<>();
          for (Object o : reply.body().getJsonArray("nodes", new JsonArray())) {
            JsonObject n = (JsonObject) o;
            if ("UP".equals(n.getString("status")) && !nodeId.equals(n.getString("id"))) {
              live.add(n.getString("id"));
            }
          }
          return clocks.round(live);
        });
  }

  private void housekeeping() {
    long now = System.currentTimeMillis();
    for (Upload u : List.copyOf(uploads.values())) {
      if (u.expiresAt() < now) {
        log.warn("upload {} of '{}' expired; removing its partial replicas", u.uploadId(), u.name());
        forgetUpload(u.uploadId());
        keeper.deleteReplicas(u.blobId(), u.nodes());
      }
    }
    keeper.collectGarbage(config.gcGraceMs());
    housekeepingRounds++;
    if (housekeepingRounds % FULL_SCAN_EVERY_ROUNDS == 0) {
      keeper.wakeAll(); // the safety net behind the targeted wake-ups
    }
    if (housekeepingRounds % RECONCILE_EVERY_ROUNDS == 0) {
      reconcileLiveStorage();
    }
  }

  private void reconcileLiveStorage() {
    keeper.reconcile(storageNodes.values().stream().filter(StorageNode::up).map(StorageNode::id).toList());
  }
}
