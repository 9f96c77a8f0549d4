package depot.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/** The {@code --server URL} option shared by every subcommand (a picocli mixin). */
public class ServerOption {
  public static final String ENV = "DEPOT_SERVER";
  public static final String DEFAULT = "http://localhost:8080";

  @Option(names = "--server", paramLabel = "URL",
      description = "Depot server (default: $DEPOT_SERVER, else " + DEFAULT + ").")
  String server;

  /** The server's base URI without a trailing slash: --server, else $DEPOT_SERVER, else the default. */
  public URI resolve(CliContext ctx) {
    String raw = server != null ? server : ctx.env(ENV) != null ? ctx.env(ENV) : DEFAULT;
    return parse(raw);
  }

  static URI parse(String raw) {
    String trimmed = raw.trim();
    while (trimmed.endsWith("/")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    URI uri;
    try {
      uri = URI.create(trimmed);
    } catch (IllegalArgumentException e) {
      throw new CliException("invalid server URL: " + raw);
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
        || uri.getHost() == null) {
      throw new CliException("invalid server URL: " + raw + " (expected http://HOST:PORT)");
    }
    return uri;
  }
}
