package depot.cli.commands;

import depot.cli.CliContext;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Operator commands: {@code depot admin clocks}, {@code depot admin election}. */
@Command(name = "admin", mixinStandardHelpOptions = true, description = "Operator commands (admin token).",
    subcommands = {AdminClocksCommand.class, AdminElectionCommand.class})
public final class AdminCommand implements Callable<Integer> {
  private final CliContext ctx;

  public AdminCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    ctx.err().println("depot: missing admin command (see `depot admin --help`)");
    return 2;
  }
}
