using Xunit;

namespace Multiprocessing.Tests;

/// <summary>
/// Tests that set variables in this process's environment for the child they start: every child
/// started meanwhile inherits them, so they run apart from the parallel tests (xunit runs a
/// collection without parallelization on its own).
/// </summary>
[CollectionDefinition(nameof(ProcessEnvironmentCollection), DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;
