//! The Lua scripts Redis runs for the router: each is one atomic step.

// Budgets first, then callers' limits, then the slots' rpm, then count: all or nothing, in one
// atomic step. KEYS: the cache key (or ''), n slot request counters, m budgets' spent and held,
// k caller limits' request and token counters. ARGV: n, m, the estimate, the counters' TTL,
// n slot rpms (-1: none), m budget limits, m held TTLs, k, k rpms, k tpms.
pub(super) const ADMIT: &str = r#"
local n, m, estimate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local k = tonumber(ARGV[5 + n + 2 * m])
local caller = 1 + n + 2 * m
if KEYS[1] ~= '' then
  local hit = redis.call('GET', KEYS[1])
  if hit then return {1, hit, redis.call('PEXPIRETIME', KEYS[1])} end
end
for i = 1, m do
  local spent = tonumber(redis.call('GET', KEYS[1 + n + 2 * i - 1]) or '0')
  local held = tonumber(redis.call('GET', KEYS[1 + n + 2 * i]) or '0')
  if spent + held + estimate > tonumber(ARGV[4 + n + i]) then
    return {3, i - 1, tostring(spent + held)}
  end
end
for i = 1, k do
  local rpm = tonumber(ARGV[5 + n + 2 * m + i])
  local tpm = tonumber(ARGV[5 + n + 2 * m + k + i])
  local requests = tonumber(redis.call('GET', KEYS[caller + 2 * i - 1]) or '0')
  local tokens = tonumber(redis.call('GET', KEYS[caller + 2 * i]) or '0')
  if (rpm >= 0 and requests >= rpm) or (tpm >= 0 and tokens >= tpm) then return {4, i - 1} end
end
for i = 1, n do
  local limit = tonumber(ARGV[4 + i])
  local c = tonumber(redis.call('GET', KEYS[1 + i]) or '0')
  if limit >= 0 and c >= limit then return {2, i - 1, c} end
end
local counts = {0}
for i = 1, n do
  local c = redis.call('INCR', KEYS[1 + i])
  if c == 1 then redis.call('PEXPIRE', KEYS[1 + i], ARGV[4]) end
  counts[i + 1] = c
end
for i = 1, m do
  redis.call('INCRBYFLOAT', KEYS[1 + n + 2 * i], estimate)
  redis.call('PEXPIRE', KEYS[1 + n + 2 * i], ARGV[4 + n + m + i])
end
for i = 1, k do
  if redis.call('INCR', KEYS[caller + 2 * i - 1]) == 1 then
    redis.call('PEXPIRE', KEYS[caller + 2 * i - 1], ARGV[4])
  end
end
return counts
"#;

// Re-cooling extends a cooldown, never shortens it; the key lives exactly as long.
pub(super) const COOL_DOWN: &str = r#"
local deadline = tonumber(ARGV[1])
if deadline > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
end
return 1
"#;

pub(super) const SETTLE: &str = r#"
local held = tonumber(redis.call('GET', KEYS[2]) or '0') - tonumber(ARGV[1])
if held > 1e-12 then redis.call('SET', KEYS[2], tostring(held), 'KEEPTTL') else redis.call('DEL', KEYS[2]) end
if tonumber(ARGV[2]) > 0 then
  redis.call('INCRBYFLOAT', KEYS[1], ARGV[2])
  if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
end
return 1
"#;
