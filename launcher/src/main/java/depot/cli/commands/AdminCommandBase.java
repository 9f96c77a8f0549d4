package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.CliException;
import depot.cli.CommandBase;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import picocli.CommandLine.Option;

/** Commands of the operator: they take the admin token ({@code --admin-token} or {@code $DEPOT_ADMIN_TOKEN}). */
abstract class AdminCommandBase extends CommandBase {
  static final String ADMIN_TOKEN_ENV = "DEPOT_ADMIN_TOKEN";

  @Option(names = "--admin-token", paramLabel = "TOKEN", description = "Admin token (default: $DEPOT_ADMIN_TOKEN).")
  String adminToken;

  AdminCommandBase(CliContext ctx) {
    super(ctx);
  }

  ApiClient adminApi() {
    String token = adminToken != null ? adminToken : ctx.env(ADMIN_TOKEN_ENV);
    if (token == null) {
      throw new CliException("no admin token: pass --admin-token TOKEN or set " + ADMIN_TOKEN_ENV);
    }
    return new ApiClient(server(), token);
  }

  /** GET {@code path} with the admin token; the answer's body, or the server's error as a CliException. */
  static String get(ApiClient api, String path) throws Exception {
    return api.requireSuccess(api.send(api.request(path).GET().build(), HttpResponse.BodyHandlers.ofString()));
  }

  static JsonObject getJson(ApiClient api, String path) throws Exception {
    return ApiClient.parseJson(get(api, path));
  }
}
