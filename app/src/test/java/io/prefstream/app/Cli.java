package io.prefstream.app;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;

/** Runs the launcher in-process and captures what it prints to stdout and stderr (log lines included). */
record Cli(int exitCode, String out, String err) {
  static Cli run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream outStream = new PrintStream(out, true, UTF_8);
    PrintStream errStream = new PrintStream(err, true, UTF_8);
    PrintWriter outWriter = new PrintWriter(new OutputStreamWriter(outStream, UTF_8), true);
    PrintWriter errWriter = new PrintWriter(new OutputStreamWriter(errStream, UTF_8), true);
    PrintStream previousOut = System.out;
    PrintStream previousErr = System.err;
    System.setOut(outStream); // commands print their results with System.out
    System.setErr(errStream); // and logback's console appender writes to System.err
    int code;
    try {
      code = Prefstream.commandLine().setOut(outWriter).setErr(errWriter).execute(args);
    } finally {
      outWriter.flush();
      errWriter.flush();
      System.setOut(previousOut);
      System.setErr(previousErr);
    }
    return new Cli(code, out.toString(UTF_8), err.toString(UTF_8));
  }
}
