using System.Net;
using Microsoft.AspNetCore.Connections;

namespace FleetSim.HubEmulator.Faults;

/// <summary>
/// Wraps Kestrel's socket transport so a hub restart can take the listeners down and bring them back on the
/// same ports: while down, the listening sockets are closed, so a connect is refused by the operating system
/// (not answered with CONNACK 3), exactly as when a hub process restarts. Kestrel's accept loop never sees the
/// gap: it keeps waiting until the listener is bound again.
/// </summary>
internal sealed class ListenerSwitch(IConnectionListenerFactory inner) : IConnectionListenerFactory
{
    private readonly List<SwitchableListener> _listeners = [];

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = new SwitchableListener(inner, await inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false));
        lock (_listeners)
        {
            _listeners.Add(listener);
        }

        return listener;
    }

    /// <summary>Closes every listening socket (new connects are refused); open connections are not touched.</summary>
    public async Task DownAsync()
    {
        foreach (var listener in Snapshot())
        {
            await listener.DownAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Listens again on the same endpoints.</summary>
    public async Task UpAsync()
    {
        foreach (var listener in Snapshot())
        {
            await listener.UpAsync().ConfigureAwait(false);
        }
    }

    private SwitchableListener[] Snapshot()
    {
        lock (_listeners)
        {
            return [.. _listeners];
        }
    }

    private sealed class SwitchableListener(IConnectionListenerFactory factory, IConnectionListener first) : IConnectionListener
    {
        private readonly Lock _gate = new();
        private readonly EndPoint _endpoint = first.EndPoint; // the bound one: port 0 resolved
        private volatile IConnectionListener _current = first;
        private TaskCompletionSource? _up;
        private bool _closed;

        public EndPoint EndPoint => _endpoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var connection = await _current.AcceptAsync(cancellationToken).ConfigureAwait(false);
                if (connection is not null)
                {
                    return connection;
                }

                Task up;
                lock (_gate)
                {
                    if (_closed || _up is null)
                    {
                        return null; // Kestrel is stopping
                    }

                    up = _up.Task;
                }

                await up.WaitAsync(cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    if (_closed)
                    {
                        return null;
                    }
                }
            }
        }

        public async Task DownAsync()
        {
            IConnectionListener current;
            lock (_gate)
            {
                if (_closed || _up is not null)
                {
                    return;
                }

                _up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                current = _current;
            }

            await current.UnbindAsync().ConfigureAwait(false);
            await current.DisposeAsync().ConfigureAwait(false);
        }

        public async Task UpAsync()
        {
            TaskCompletionSource? up;
            lock (_gate)
            {
                up = _up;
                if (up is null || _closed)
                {
                    return;
                }
            }

            // The port was just released; a connection the hub closed may hold it in TIME_WAIT for a moment.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    _current = await factory.BindAsync(_endpoint).ConfigureAwait(false);
                    break;
                }
                catch (AddressInUseException) when (attempt < 50)
                {
                    await Task.Delay(100).ConfigureAwait(false);
                }
            }

            lock (_gate)
            {
                _up = null;
            }

            up.TrySetResult();
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            TaskCompletionSource? up;
            lock (_gate)
            {
                _closed = true;
                up = _up;
            }

            up?.TrySetResult();
            try
            {
                await _current.UnbindAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // stopped while down: the listener was already closed
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await _current.DisposeAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
