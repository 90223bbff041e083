package io.prefstream.app;

import picocli.CommandLine.Command;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks; each prints a last line starting with RESULT.",
    subcommands = {BenchStepCommand.class, BenchIngestCommand.class})
final class BenchCommand {}
