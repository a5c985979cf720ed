using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.Support;

/// <summary>Sends the provider's logs to the test output, so a failing test shows what the provider saw.</summary>
public static class TestOutputLoggerFactory
{
    public static ILoggerFactory Create(ITestOutputHelper output) =>
        LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Debug).AddProvider(new Provider(output)));

    private sealed class Provider : ILoggerProvider
    {
        private readonly ITestOutputHelper _output;

        public Provider(ITestOutputHelper output)
        {
            _output = output;
        }

        public ILogger CreateLogger(string categoryName) => new Logger(_output);

        public void Dispose()
        {
        }
    }

    private sealed class Logger : ILogger
    {
        private readonly ITestOutputHelper _output;

        public Logger(ITestOutputHelper output)
        {
            _output = output;
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                _output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {eventId.Id}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished: its output is closed.
            }
        }
    }
}
