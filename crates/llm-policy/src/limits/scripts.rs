//! The Lua scripts of [`super::RedisLimiter`]: one per admit, one per settle, each atomic.
//! The key layout is in [`super`]'s docs. Keys are built inside the scripts, so a Redis
//! Cluster is not supported; one primary (with replicas) is. Optional numbers travel as `-`
//! (`tonumber` gives `nil`). The admit script mirrors `rules::evaluate` (any refusal at all)
//! and returns the snapshot it decided on, from which Rust builds the answer.

/// Shared helpers: key names, the reservation sweep and release.
const PRELUDE: &str = r#"
local prefix = ARGV[1]
local rid = ARGV[2]
local function release(k, amount)
  if amount and amount > 0 then
    local left = redis.call('DECRBY', k .. 'restot', amount)
    if left < 0 then redis.call('SET', k .. 'restot', 0, 'KEEPTTL') end
  end
end
local function sweep_reservations(k, now)
  local expired = redis.call('ZRANGEBYSCORE', k .. 'res', '-inf', now, 'LIMIT', 0, 512)
  for _, id in ipairs(expired) do
    release(k, tonumber(redis.call('HGET', k .. 'resamt', id)))
    redis.call('HDEL', k .. 'resamt', id)
    redis.call('ZREM', k .. 'res', id)
  end
end
local function seeded_spend(k, period, seed, ttl)
  local key = k .. 'spend:' .. period
  redis.call('SET', key, seed, 'NX')
  redis.call('PEXPIRE', key, ttl)
  return key
end
"#;

/// ARGV: prefix, request id, now, reserve, slot TTL, reservation TTL, window TTL, then per
/// scope: id, rpm, tpm, max parallel, budget (0/1), max, seed, period key, spend TTL.
/// Reply: refused (0/1), then per scope: requests, tokens, parallel, spent, reserved.
const ADMIT: &str = r#"
local now = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local window = math.floor(now / 60000)
local fields = 9
local scopes = {}
local out = {0}
local refused = false
for b = 8, #ARGV, fields do
  local s = {
    k = prefix .. ARGV[b] .. ':', rpm = tonumber(ARGV[b + 1]), tpm = tonumber(ARGV[b + 2]),
    par = tonumber(ARGV[b + 3]), budget = ARGV[b + 4] == '1', max = tonumber(ARGV[b + 5]),
  }
  local requests, tokens, parallel, spent, reserved = 0, 0, 0, 0, 0
  if s.rpm then requests = tonumber(redis.call('GET', s.k .. 'rpm:' .. window)) or 0 end
  if s.tpm then tokens = tonumber(redis.call('GET', s.k .. 'tpm:' .. window)) or 0 end
  if s.par then
    redis.call('ZREMRANGEBYSCORE', s.k .. 'par', '-inf', now)
    parallel = redis.call('ZCARD', s.k .. 'par')
  end
  if s.budget then
    local key = seeded_spend(s.k, ARGV[b + 7], ARGV[b + 6], ARGV[b + 8])
    spent = tonumber(redis.call('GET', key)) or 0
    sweep_reservations(s.k, now)
    reserved = tonumber(redis.call('GET', s.k .. 'restot')) or 0
  end
  if (s.max and (spent >= s.max or spent + reserve + reserved > s.max))
    or (s.rpm and requests >= s.rpm) or (s.tpm and tokens >= s.tpm)
    or (s.par and parallel >= s.par) then
    refused = true
  end
  scopes[#scopes + 1] = s
  out[#out + 1] = requests
  out[#out + 1] = tokens
  out[#out + 1] = parallel
  out[#out + 1] = spent
  out[#out + 1] = reserved
end
if refused then
  out[1] = 1
  return out
end
for _, s in ipairs(scopes) do
  if s.rpm then
    local key = s.k .. 'rpm:' .. window
    redis.call('INCR', key)
    redis.call('PEXPIRE', key, ARGV[7])
  end
  if s.par then
    redis.call('ZADD', s.k .. 'par', now + tonumber(ARGV[5]), rid)
    redis.call('PEXPIRE', s.k .. 'par', ARGV[5])
  end
  if s.max and reserve > 0 then
    release(s.k, tonumber(redis.call('HGET', s.k .. 'resamt', rid)))
    redis.call('ZADD', s.k .. 'res', now + tonumber(ARGV[6]), rid)
    redis.call('HSET', s.k .. 'resamt', rid, ARGV[4])
    redis.call('INCRBY', s.k .. 'restot', ARGV[4])
    for _, part in ipairs({'res', 'resamt', 'restot'}) do
      redis.call('PEXPIRE', s.k .. part, ARGV[6])
    end
  end
end
return out
"#;

/// ARGV: prefix, request id, admit window, tokens, cost, settled TTL, window TTL, then per
/// scope: id, tpm (0/1), parallel (0/1), budget (0/1), seed, period key, spend TTL.
/// Reply: duplicate (0/1), then per scope: spend before, spend after.
const SETTLE: &str = r#"
local window = ARGV[3]
local tokens = tonumber(ARGV[4])
local settled = prefix .. 'settled:' .. window
if redis.call('SADD', settled, rid) == 0 then return {1} end
redis.call('PEXPIRE', settled, ARGV[6])
local out = {0}
local fields = 7
for b = 8, #ARGV, fields do
  local k = prefix .. ARGV[b] .. ':'
  if ARGV[b + 2] == '1' then redis.call('ZREM', k .. 'par', rid) end
  local before, after = 0, 0
  if ARGV[b + 3] == '1' then
    local amount = tonumber(redis.call('HGET', k .. 'resamt', rid))
    if amount then
      release(k, amount)
      redis.call('HDEL', k .. 'resamt', rid)
      redis.call('ZREM', k .. 'res', rid)
    end
    local key = seeded_spend(k, ARGV[b + 5], ARGV[b + 4], ARGV[b + 6])
    before = tonumber(redis.call('GET', key)) or 0
    after = redis.call('INCRBY', key, ARGV[5])
  end
  if ARGV[b + 1] == '1' and tokens > 0 then
    local key = k .. 'tpm:' .. window
    redis.call('INCRBY', key, ARGV[4])
    redis.call('PEXPIRE', key, ARGV[7])
  end
  out[#out + 1] = before
  out[#out + 1] = after
end
return out
"#;

/// Fields per scope in the admit and settle arguments (after the fixed ones).
pub(crate) const ADMIT_FIELDS: usize = 9;
pub(crate) const SETTLE_FIELDS: usize = 7;
/// Arguments before the first scope.
pub(crate) const FIXED_ARGS: usize = 7;

/// The compiled scripts (their SHA1s; `EVALSHA`, loading them when Redis lacks them).
#[derive(Debug)]
pub(crate) struct Scripts {
    pub admit: deadpool_redis::redis::Script,
    pub settle: deadpool_redis::redis::Script,
}

impl Scripts {
    pub(crate) fn new() -> Scripts {
        let script = |body: &str| deadpool_redis::redis::Script::new(&format!("{PRELUDE}{body}"));
        Scripts {
            admit: script(ADMIT),
            settle: script(SETTLE),
        }
    }
}
