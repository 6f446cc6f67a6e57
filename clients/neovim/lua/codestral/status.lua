-- What the server last said about itself, the statusline text, and once-only error notices.
local M = {}

---@class codestral.Status
---@field state string loading|ready|working|error|disabled
---@field backend string
---@field model string
---@field message string
---@field progress integer|nil
---@field lastLatencyMs integer|nil

---@type codestral.Status|nil
M.last = nil
--- Messages already shown, so each distinct error reaches the user once.
M.shown = {}
M.notify_enabled = true

local function clean(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

--- Record a `codestral/status` object (notification or request answer).
---@param params table
function M.update(params)
  if type(params) ~= 'table' then
    return
  end
  M.last = {
    state = clean(params.state) or 'unknown',
    backend = clean(params.backend) or '',
    model = clean(params.model) or '',
    message = clean(params.message) or '',
    progress = clean(params.progress),
    lastLatencyMs = clean(params.lastLatencyMs),
  }
  if M.last.state == 'error' and M.last.message ~= '' then
    M.notify_once(M.last.message, vim.log.levels.ERROR)
  end
end

--- Show `message` through vim.notify unless the same text was shown before.
---@param message string
---@param level integer
---@return boolean shown
function M.notify_once(message, level)
  -- The same error may come as a status message and as window/showMessage, with or
  -- without the server's name in front: show it once.
  message = message:gsub('^codestral%-ls:%s*', '')
  if not M.notify_enabled or M.shown[message] then
    return false
  end
  M.shown[message] = true
  vim.notify('codestral: ' .. message, level, { title = 'codestral' })
  return true
end

--- Short text for a statusline: '' when the plugin is not set up.
---@param st codestral.Status|nil
---@param enabled boolean
---@param attached boolean
---@return string
function M.format(st, enabled, attached)
  if not attached then
    return ''
  end
  if not enabled then
    return 'codestral: off'
  end
  if not st then
    return 'codestral: starting'
  end
  if st.state == 'loading' then
    if st.progress then
      return ('codestral: loading %d%%'):format(st.progress)
    end
    return 'codestral: loading'
  end
  if st.state == 'ready' and st.lastLatencyMs then
    return ('codestral: ready %dms'):format(st.lastLatencyMs)
  end
  return 'codestral: ' .. st.state
end

--- Lines for `:Codestral status`.
---@param st codestral.Status|nil
---@param info table {enabled:boolean, path:string, attached:boolean, version:string|nil}
---@return string[]
function M.describe(st, info)
  local lines = {
    ('codestral: %s, %s path%s'):format(
      info.enabled and 'enabled' or 'disabled',
      info.path,
      info.attached and '' or ' (server not attached to this buffer)'
    ),
  }
  if not st then
    table.insert(lines, 'server: no status received yet')
    return lines
  end
  table.insert(lines, ('state: %s%s'):format(st.state, st.state == 'loading' and ' (model loading)' or ''))
  table.insert(lines, ('backend: %s'):format(st.backend ~= '' and st.backend or '?'))
  table.insert(lines, ('model: %s'):format(st.model ~= '' and st.model or '?'))
  table.insert(
    lines,
    ('last latency: %s'):format(st.lastLatencyMs and (st.lastLatencyMs .. ' ms') or 'none yet')
  )
  if st.progress then
    table.insert(lines, ('progress: %d%%'):format(st.progress))
  end
  if st.message ~= '' then
    table.insert(lines, 'message: ' .. st.message)
  end
  return lines
end

return M
