//! A lab's balancer as `lblab proxy` configuration: the same algorithm,
//! health checks, limits and filters, with the lab's servers at the real
//! addresses the rig gave them.

use super::clients::loopback_of;
use crate::model::Cidr;
use crate::policy::RateLimit;
use crate::proxy::config::{BackendConfig, HealthConfig, MIN_IDLE_TIMEOUT, ProbeKind, ProxyConfig};
use crate::spec::{FilterSpec, Lab};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

fn std(d: crate::spec::Dur) -> Duration {
    Duration::from_nanos(d.get().as_nanos())
}

/// The proxy configuration of `lab`'s balancer in front of servers at
/// `addresses` (in the lab's order), listening on an ephemeral port.
pub fn proxy_config(lab: &Lab, addresses: &[SocketAddr]) -> Result<ProxyConfig, String> {
    let b = &lab.balancer;
    let backends = lab
        .servers
        .expand()
        .into_iter()
        .zip(addresses)
        .map(|(s, a)| BackendConfig {
            address: *a,
            written: a.to_string(),
            name: s.name,
            weight: s.weight,
        })
        .collect();
    let rate_limit = b
        .defences
        .rate_limit
        .map(|r| RateLimit::from_spec(&r).map_err(|e| e.to_string()))
        .transpose()?;
    let idle = std(b.established_timeout);
    let config = ProxyConfig {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        tls: None,
        algorithm: b.algorithm,
        backends,
        health: HealthConfig {
            kind: ProbeKind::Tcp,
            interval: std(b.health.interval),
            timeout: std(b.health.timeout),
            rise: b.health.rise.get(),
            fall: b.health.fall.get(),
            jitter: Duration::ZERO,
        },
        // The simulated balancer forgets a half-open entry after this
        // long; the proxy's counterpart is its connect to a backend.
        connect_timeout: std(b.half_open_timeout),
        // A simulated balancer tries one backend per connection unless
        // redispatch is on.
        connect_tries: if b.resilience.redispatch.is_some() {
            2
        } else {
            1
        },
        idle_timeout: (idle >= MIN_IDLE_TIMEOUT).then_some(idle),
        max_connections: None,
        rate_limit,
        rate_limit_sources: b
            .defences
            .rate_limit
            .map_or(1, |r| r.sources.get() as usize),
        filter: on_loopback(&b.defences.filter),
        sticky: b.resilience.sticky.map(std),
        respond_503: false,
        drain_timeout: Duration::from_secs(1),
    };
    config.validate()?;
    Ok(config)
}

/// A filter of simulated addresses as one of the loopback addresses the
/// real clients connect from (`a.b.c.d` is `127.b.c.d`; a range wider
/// than a /8 is all of 127/8).
pub fn on_loopback(filter: &FilterSpec) -> FilterSpec {
    let map = |c: &Cidr| {
        let len = c.prefix_len().max(8);
        let std::net::IpAddr::V4(v4) = loopback_of(c.network()) else {
            return *c;
        };
        Cidr::new(crate::model::Ip(u32::from(v4)), len).unwrap_or(*c)
    };
    FilterSpec {
        allow: filter.allow.iter().map(map).collect(),
        deny: filter.deny.iter().map(map).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_range_maps_onto_the_loopback_addresses_its_clients_use() {
        let filter = FilterSpec {
            allow: vec![Cidr::parse("10.0.0.0/24").expect("cidr")],
            deny: vec![Cidr::parse("0.0.0.0/0").expect("cidr")],
        };
        let real = on_loopback(&filter);
        assert_eq!(real.allow[0].to_string(), "127.0.0.0/24");
        assert_eq!(real.deny[0].to_string(), "127.0.0.0/8");
    }

    #[test]
    fn the_lab_balancer_becomes_the_proxy_configuration() {
        let lab = crate::lab::builtin("server-dies").expect("built in");
        let addrs: Vec<SocketAddr> = (0..5)
            .map(|i| SocketAddr::from((Ipv4Addr::LOCALHOST, 9000 + i)))
            .collect();
        let c = proxy_config(&lab, &addrs).expect("config");
        assert_eq!(c.backends.len(), 5);
        assert_eq!(c.backends[1].name, "srv-2");
        assert_eq!(c.backends[1].address.port(), 9001);
        assert_eq!(c.health.interval, Duration::from_millis(500));
        assert_eq!(c.health.timeout, Duration::from_millis(250));
        assert_eq!(c.health.fall, 3);
        assert_eq!(c.connect_tries, 1);
    }
}
