namespace AzKv.Client.Http;

/// <summary>
/// The endpoints in order of preference, with the ones that recently could not be reached moved
/// to the back until their down time passes. Thread-safe; lock-free reads of an immutable array.
/// </summary>
internal sealed class EndpointList
{
    private readonly Endpoint[] _endpoints;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _downTime;

    public EndpointList(IReadOnlyList<Uri> endpoints, TimeSpan downTime, TimeProvider timeProvider)
    {
        _endpoints = new Endpoint[endpoints.Count];
        for (var i = 0; i < endpoints.Count; i++)
        {
            _endpoints[i] = new Endpoint(endpoints[i]);
        }

        _downTime = downTime;
        _timeProvider = timeProvider;
    }

    public IReadOnlyList<Uri> All => Array.ConvertAll(_endpoints, e => e.BaseUri);

    /// <summary>Every endpoint, reachable ones first (in preference order), then the ones marked down.</summary>
    public Endpoint[] InTryOrder()
    {
        if (_endpoints.Length == 1)
        {
            return _endpoints;
        }

        var now = _timeProvider.GetTimestamp();
        var down = new bool[_endpoints.Length];
        for (var i = 0; i < _endpoints.Length; i++)
        {
            down[i] = _endpoints[i].IsDown(now);
        }

        var ordered = new Endpoint[_endpoints.Length];
        var next = 0;
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < _endpoints.Length; i++)
            {
                if (down[i] == (pass == 1))
                {
                    ordered[next++] = _endpoints[i];
                }
            }
        }

        return ordered;
    }

    public void MarkDown(Endpoint endpoint) =>
        endpoint.DownUntil = _timeProvider.GetTimestamp() + (long)(_downTime.TotalSeconds * _timeProvider.TimestampFrequency);

    public static void MarkUp(Endpoint endpoint) => endpoint.DownUntil = 0;

    /// <summary>One base URL, kept as a string ending without a slash so paths append cheaply.</summary>
    internal sealed class Endpoint
    {
        private long _downUntil;

        public Endpoint(Uri baseUri)
        {
            BaseUri = baseUri;
            Prefix = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }

        public Uri BaseUri { get; }

        public string Prefix { get; }

        public long DownUntil
        {
            get => Volatile.Read(ref _downUntil);
            set => Volatile.Write(ref _downUntil, value);
        }

        public bool IsDown(long now) => DownUntil > now;

        public override string ToString() => Prefix;
    }
}
