package depot.cli;

import java.net.URI;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * What every subcommand shares: the --server option, the {@link CliContext}, and the ways to obtain an
 * {@link ApiClient}. Subclasses do their work in {@link #execute()} and signal failure by throwing.
 */
public abstract class CommandBase implements Callable<Integer> {
  public static final String TOKEN_ENV = "DEPOT_TOKEN";
  public static final String NOT_LOGGED_IN = "not logged in: run `depot login --nickname NAME` first";

  @Mixin
  protected ServerOption serverOption;

  protected final CliContext ctx;

  protected CommandBase(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public final Integer call() throws Exception {
    execute();
    return 0;
  }

  protected abstract void execute() throws Exception;

  protected URI server() {
    return serverOption.resolve(ctx);
  }

  protected CredentialsStore credentials() {
    return CredentialsStore.forContext(ctx);
  }

  /** A client without identity (registration). */
  protected ApiClient anonymousApi() {
    return new ApiClient(server(), null);
  }

  /** A client acting as the logged-in client: $DEPOT_TOKEN, else the stored credentials. */
  protected ApiClient clientApi() {
    return new ApiClient(server(), clientToken());
  }

  protected String clientToken() {
    String fromEnv = ctx.env(TOKEN_ENV);
    if (fromEnv != null) {
      return fromEnv;
    }
    return credentials().load()
        .map(Credentials::token)
        .filter(t -> !t.isBlank())
        .orElseThrow(() -> new CliException(NOT_LOGGED_IN));
  }

  /** On stderr, when a file has fewer live copies than asked for: the command succeeded, but not in full yet. */
  protected void warnOfMissingReplicas(FileRecord record, String name) {
    String warning = record.missingReplicasWarning(name);
    if (warning != null) {
      ctx.err().println("depot: warning: " + warning);
    }
  }
}
