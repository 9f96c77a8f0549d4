package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.DepotCli;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;

/**
 * Deposits of contents held in memory, driven from one event loop: one connection per bench client, one
 * request in flight on each (closed loop, as wrk and other load generators work). The load generator
 * shares the machine with the cluster it measures: one thread serves every connection, where a thread per
 * client blocked on its own socket and had to be woken for each answer.
 */
final class EventLoopDeposits implements AutoCloseable {
  /** One deposit: where it goes and what it sends (built before its clock starts). */
  record Deposit(String uri, String token, byte[] data, String sha256) {}

  @FunctionalInterface
  interface Prepare {
    Deposit prepare(int client, int file) throws Exception;
  }

  /** Contents up to this size are built on the event loop itself (microseconds); larger ones on workers. */
  private static final int BUILT_ON_LOOP_MAX_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final HttpClient http;
  private final boolean buildOnLoop;

  EventLoopDeposits(int connections, boolean tls, long size) {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(connections)
        .setInternalBlockingPoolSize(1).setPreferNativeTransport(true)); // as nodes do by default
    buildOnLoop = size <= BUILT_ON_LOOP_MAX_BYTES;
    http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setSsl(tls)
            .setConnectTimeout((int) ApiClient.CONNECT_TIMEOUT.toMillis()),
        new PoolOptions().setHttp1MaxSize(connections));
  }

  /** Runs {@code count.applyAsInt(c)} deposits for each of {@code clients} clients, all clients at once. */
  BenchReport run(String phase, int clients, IntUnaryOperator count, Prepare prepare) throws Exception {
    BenchReport report = new BenchReport(phase);
    AtomicInteger running = new AtomicInteger(clients);
    Promise<Void> done = Promise.promise();
    long start = System.nanoTime();
    vertx.runOnContext(v -> {
      for (int c = 0; c < clients; c++) {
        next(c, 0, count.applyAsInt(c), prepare, report, () -> {
          if (running.decrementAndGet() == 0) {
            done.complete();
          }
        });
      }
    });
    done.future().toCompletionStage().toCompletableFuture().get();
    report.finish(System.nanoTime() - start);
    return report;
  }

  private void next(int client, int file, int count, Prepare prepare, BenchReport report, Runnable finished) {
    if (file >= count) {
      finished.run();
      return;
    }
    build(prepare, client, file).onComplete(built -> {
      if (built.failed()) {
        report.error(DepotCli.describe(built.cause()));
        next(client, file + 1, count, prepare, report, finished);
        return;
      }
      Deposit deposit = built.result();
      long t0 = System.nanoTime();
      send(deposit).onComplete(ar -> {
        if (ar.succeeded()) {
          report.success(System.nanoTime() - t0, deposit.data().length);
        } else {
          report.error(DepotCli.describe(ar.cause()));
        }
        next(client, file + 1, count, prepare, report, finished);
      });
    });
  }

  /** Content generation is the client's own work: never on the clock, never holding up the loop. */
  private Future<Deposit> build(Prepare prepare, int client, int file) {
    if (!buildOnLoop) {
      return vertx.executeBlocking(() -> prepare.prepare(client, file), false);
    }
    try {
      return Future.succeededFuture(prepare.prepare(client, file));
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
  }

  private Future<Void> send(Deposit d) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.PUT).setAbsoluteURI(d.uri())
        .putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + d.token())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
        .putHeader(ApiClient.SHA256_HEADER, d.sha256());
    return http.request(options)
        .compose(request -> request.send(Buffer.buffer(d.data())))
        .compose(response -> response.body().map(body -> {
          if (!ApiClient.isSuccess(response.statusCode())) {
            throw ApiClient.failure(response.statusCode(), body.toString());
          }
          return null;
        }));
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
