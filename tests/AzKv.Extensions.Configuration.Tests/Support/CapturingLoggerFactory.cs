using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.Support;

/// <summary>
/// Keeps every log entry (event id, formatted message, exception text) for assertions, and writes
/// it to the test output as well.
/// </summary>
public sealed class CapturingLoggerFactory : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, string Text)> _entries = new();
    private readonly ITestOutputHelper _output;

    public CapturingLoggerFactory(ITestOutputHelper output)
    {
        _output = output;
        Factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(this));
    }

    /// <summary>The factory to give the provider.</summary>
    public ILoggerFactory Factory { get; }

    /// <summary>Every entry so far: the message and, after it, the exception's full text.</summary>
    public IReadOnlyList<(int EventId, string Text)> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = formatter(state, exception) + (exception is null ? string.Empty : "\n" + exception);
            owner._entries.Enqueue((eventId.Id, text));
            try
            {
                owner._output.WriteLine($"{logLevel} {eventId.Id}: {text}");
            }
            catch (InvalidOperationException)
            {
                // The test already ended; a background task logged late.
            }
        }
    }
}
