//! The Lua scripts of [`crate::RedisState`] and the shape of their replies.
//!
//! Keys, all under the configured prefix `P` and the deployment id:
//!
//! | key | type | meaning | expiry |
//! |---|---|---|---|
//! | `P{id}:use:{minute}` | hash `r`, `t` | requests and tokens in that minute (Redis clock) | 2 min |
//! | `P{id}:cool` | string | cooling down while it exists | `cooldown_time` |
//! | `P{id}:half` | string | after a cooldown, until a probe answers (half-open) | cooldown + 60 s |
//! | `P{id}:probe` | string | the half-open probe is out | 60 s |
//! | `P{id}:fails` | sorted set | failures of the last minute (score: ms) | 60 s |
//! | `P{id}:lat` | hash `full`, `ttft` | latency averages (EWMA, µs) | 1 h |
//!
//! Time is the Redis server's (`TIME`), so instances with skewed clocks agree on minutes and
//! cooldowns. Keys are built inside the scripts (the minute comes from `TIME`), so a Redis
//! Cluster is not supported; one primary (with replicas, Sentinel-managed or not) is.
//!
//! Every reply is a flat list of integers: the script's own fields, the milliseconds left in
//! the current minute, then six numbers per deployment (see [`parse_group`]).

use std::time::Duration;

use crate::breaker::SharedBreaker;
use crate::state::SharedSnapshot;

/// Shared by every script: the clock, key names and the snapshot of deployments.
const PRELUDE: &str = r#"
local prefix = ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local minute = math.floor(now / 60000)
local function key(id, part) return prefix .. id .. ':' .. part end
local function usage_key(id) return prefix .. id .. ':use:' .. minute end
local function snapshot(id, out)
  local cool = redis.call('PTTL', key(id, 'cool'))
  if cool < 0 then cool = 0 end
  local half = 0
  if cool == 0 and redis.call('EXISTS', key(id, 'half')) == 1 then
    half = 1
    if redis.call('EXISTS', key(id, 'probe')) == 1 then half = 2 end
  end
  local use = redis.call('HMGET', usage_key(id), 'r', 't')
  local lat = redis.call('HMGET', key(id, 'lat'), 'full', 'ttft')
  out[#out + 1] = cool
  out[#out + 1] = half
  out[#out + 1] = tonumber(use[1]) or 0
  out[#out + 1] = tonumber(use[2]) or 0
  out[#out + 1] = tonumber(lat[1]) or 0
  out[#out + 1] = tonumber(lat[2]) or 0
end
local function group(out, first, last)
  out[#out + 1] = 60000 - (now % 60000)
  for i = first, last do snapshot(ARGV[i], out) end
  return out
end
"#;

/// ARGV: prefix, ids... → the group.
const READ: &str = r#"
return group({}, 2, #ARGV)
"#;

/// ARGV: prefix, chosen id, forced (0/1), rpm (0: none), tpm (0: none), ids... →
/// verdict (0 counted, 1 counted as the probe, 2 cooling, 3 probe out, 4 over a limit), the
/// group. Checks and counts in one step, so instances never both take the last request of a
/// minute or both send the probe.
const BEGIN: &str = r#"
local id = ARGV[2]
local forced = ARGV[3] == '1'
local rpm, tpm = tonumber(ARGV[4]), tonumber(ARGV[5])
local use = usage_key(id)
local counts = redis.call('HMGET', use, 'r', 't')
local verdict = 0
if (rpm > 0 and (tonumber(counts[1]) or 0) >= rpm) or (tpm > 0 and (tonumber(counts[2]) or 0) >= tpm) then
  verdict = 4
elseif not forced then
  if redis.call('EXISTS', key(id, 'cool')) == 1 then
    verdict = 2
  elseif redis.call('EXISTS', key(id, 'half')) == 1 then
    if redis.call('SET', key(id, 'probe'), '1', 'NX', 'PX', 60000) then verdict = 1 else verdict = 3 end
  end
end
if verdict < 2 then
  redis.call('HINCRBY', use, 'r', 1)
  redis.call('PEXPIRE', use, 120000)
end
return group({verdict}, 6, #ARGV)
"#;

/// ARGV: prefix, id, opens at once (0/1), allowed fails, cooldown ms, unique member →
/// cooling (0/1), the deployment. The breaker of `breaker.rs`, on shared keys: more than
/// `allowed_fails` failures within a minute, a 429/401/403, or a failure while half-open
/// start a cooldown.
const FAIL: &str = r#"
local id = ARGV[2]
local open = false
if redis.call('EXISTS', key(id, 'cool')) == 0 and redis.call('EXISTS', key(id, 'half')) == 1 then
  open = true
elseif ARGV[3] == '1' then
  open = true
else
  local fails = key(id, 'fails')
  redis.call('ZADD', fails, now, ARGV[6])
  redis.call('ZREMRANGEBYSCORE', fails, '-inf', '(' .. (now - 60000))
  redis.call('PEXPIRE', fails, 60000)
  open = redis.call('ZCARD', fails) > tonumber(ARGV[4])
end
if open then
  local cooldown = tonumber(ARGV[5])
  if cooldown > 0 then redis.call('SET', key(id, 'cool'), '1', 'PX', cooldown) end
  redis.call('SET', key(id, 'half'), '1', 'PX', cooldown + 60000)
  redis.call('DEL', key(id, 'fails'), key(id, 'probe'))
end
return group({open and 1 or 0}, 2, 2)
"#;

/// ARGV: prefix, EWMA weight, then (id, what, value) triples: `full`/`ttft` a success with
/// its latency in µs, `tok` tokens used. Written behind, in batches.
const RECORD: &str = r#"
local weight = tonumber(ARGV[2])
for i = 3, #ARGV - 2, 3 do
  local id, what, value = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if what == 'tok' then
    local use = usage_key(id)
    redis.call('HINCRBY', use, 't', value)
    redis.call('PEXPIRE', use, 120000)
  else
    local lat = key(id, 'lat')
    local old = tonumber(redis.call('HGET', lat, what))
    local new = value
    if old and old > 0 then new = old * (1 - weight) + value * weight end
    redis.call('HSET', lat, what, math.floor(new))
    redis.call('PEXPIRE', lat, 3600000)
    redis.call('DEL', key(id, 'fails'))
    -- A success closes a half-open breaker, never a running cooldown (see breaker.rs).
    if redis.call('EXISTS', key(id, 'cool')) == 0 then
      redis.call('DEL', key(id, 'half'), key(id, 'probe'))
    end
  end
end
return {0}
"#;

/// The four scripts, compiled (hashed) once.
#[derive(Debug)]
pub struct Scripts {
    pub read: deadpool_redis::redis::Script,
    pub begin: deadpool_redis::redis::Script,
    pub fail: deadpool_redis::redis::Script,
    pub record: deadpool_redis::redis::Script,
}

impl Scripts {
    pub fn new() -> Scripts {
        let script = |body: &str| deadpool_redis::redis::Script::new(&format!("{PRELUDE}{body}"));
        Scripts {
            read: script(READ),
            begin: script(BEGIN),
            fail: script(FAIL),
            record: script(RECORD),
        }
    }
}

/// Numbers per deployment in a reply.
const PER_DEPLOYMENT: usize = 6;

/// The group part of a reply (after the script's own `head` fields): one snapshot per
/// deployment, in the order asked; `None` if the reply is malformed.
pub fn parse_group(reply: &[i64], head: usize) -> Option<Vec<SharedSnapshot>> {
    let resets_in = Duration::from_millis(u64::try_from(*reply.get(head)?).ok()?);
    let rest = reply.get(head + 1..)?;
    if rest.len() % PER_DEPLOYMENT != 0 {
        return None;
    }
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Some(
        rest.chunks_exact(PER_DEPLOYMENT)
            .map(|d| SharedSnapshot {
                breaker: match (d[0], d[1]) {
                    (cool, _) if cool > 0 => SharedBreaker::Open {
                        left: Duration::from_millis(count(cool)),
                    },
                    (_, 1) => SharedBreaker::HalfOpen { probing: false },
                    (_, 2) => SharedBreaker::HalfOpen { probing: true },
                    _ => SharedBreaker::Closed,
                },
                requests: count(d[2]),
                tokens: count(d[3]),
                latency_us: count(d[4]),
                ttft_us: count(d[5]),
                resets_in,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_into_snapshots() {
        let open = SharedSnapshot {
            breaker: SharedBreaker::Open {
                left: Duration::from_millis(1500),
            },
            requests: 3,
            tokens: 40,
            latency_us: 900,
            ttft_us: 0,
            resets_in: Duration::from_millis(2000),
        };
        let probing = SharedSnapshot {
            breaker: SharedBreaker::HalfOpen { probing: true },
            requests: 0,
            tokens: 0,
            latency_us: 0,
            ttft_us: 0,
            ..open
        };
        // (reply, head, parsed)
        let cases: Vec<(Vec<i64>, usize, Option<Vec<SharedSnapshot>>)> = vec![
            (
                vec![1, 2000, 1500, 0, 3, 40, 900, 0, 0, 2, 0, 0, 0, 0],
                1,
                Some(vec![open, probing]),
            ),
            (vec![2000], 0, Some(vec![])),
            (vec![2000, 1, 2], 0, None),
            (vec![], 0, None),
        ];
        for (reply, head, parsed) in cases {
            assert_eq!(parse_group(&reply, head), parsed, "{reply:?}");
        }
    }
}
