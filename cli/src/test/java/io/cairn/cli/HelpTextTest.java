package io.cairn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Every --help reads as sentences. picocli prints each element of a description array on its own
 * line, wraps each one by itself, and lists a command by its first element only: an element that
 * stops mid-sentence ("... is a" / "retry: it returns ...") showed as broken lines and as a
 * truncated summary in 'cairnctl --help'. So each element must end a sentence, and a % that is not
 * %n or %% (a format error picocli prints as a WARN) is refused too.
 */
class HelpTextTest {
  @Test
  void everyDescriptionElementEndsASentence() {
    List<String> broken = new ArrayList<>();
    walk(Cairnctl.commandLine(), broken);
    assertEquals(List.of(), broken, "description elements that stop mid-sentence");
  }

  @Test
  void noHelpMakesPicocliWarn() throws Exception {
    java.io.PrintStream was = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    List<String> rendered = new ArrayList<>();
    System.setErr(new java.io.PrintStream(captured, true, "UTF-8"));
    try {
      render(Cairnctl.commandLine(), rendered);
    } finally {
      System.setErr(was);
    }
    assertTrue(rendered.size() > 20, "rendered " + rendered);
    String warnings = captured.toString("UTF-8");
    assertEquals("", warnings, "picocli's warnings while rendering every --help");
  }

  private static void render(CommandLine cl, List<String> rendered) {
    cl.getUsageMessage();
    rendered.add(cl.getCommandSpec().qualifiedName());
    for (CommandLine sub : cl.getSubcommands().values()) {
      render(sub, rendered);
    }
  }

  @Test
  void aUsageErrorNamesTheCommandOnce() {
    java.io.StringWriter err = new java.io.StringWriter();
    int code =
        Cairnctl.run(
            new String[] {"no-such-command"},
            new java.io.PrintWriter(new java.io.StringWriter()),
            new java.io.PrintWriter(err));
    assertTrue(code != 0);
    assertTrue(err.toString().contains("(see: cairnctl --help)"), err.toString());
  }

  private static void walk(CommandLine cl, List<String> broken) {
    CommandSpec spec = cl.getCommandSpec();
    check(spec.qualifiedName(), spec.usageMessage().description(), broken);
    for (ArgSpec arg : spec.args()) {
      String name =
          arg.isOption() ? ((CommandLine.Model.OptionSpec) arg).longestName() : arg.paramLabel();
      check(spec.qualifiedName() + " " + name, arg.description(), broken);
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      walk(sub, broken);
    }
  }

  private static void check(String where, String[] lines, List<String> broken) {
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();

      boolean last = i == lines.length - 1;
      if (line.isEmpty() || (last && !line.isEmpty())) {
        continue;
      }
      if (!line.matches(".*[.!?:]$") && !lines[i + 1].startsWith("%n")) {
        broken.add(where + ": \"" + line + "\"");
      }
    }
  }
}
