-- Per-buffer behaviour: when to ask the server (fallback path), when to show, follow or hide
-- ghost text, and keeping suggestions away from open completion menus.
local ghost = require('codestral.ghost')
local lsp = require('codestral.lsp')
local menu = require('codestral.menu')
local native = require('codestral.native')
local text = require('codestral.text')
local api = vim.api

local M = {}

local AUTOMATIC, INVOKED = 2, 1

---@class codestral.BufState
---@field timer uv.uv_timer_t|nil
---@field req {client: vim.lsp.Client, id: integer}|nil
---@field suppressed boolean native inline completion switched off while a menu is open

---@type table<integer, codestral.BufState>
M.bufs = {}
---@type table plugin options (set by setup)
M.opts = nil
M.enabled = true
M.path = 'fallback' -- 'native' or 'fallback', decided once in setup

---@param bufnr integer
---@return codestral.BufState
local function buf_state(bufnr)
  local st = M.bufs[bufnr]
  if not st then
    st = { suppressed = false }
    M.bufs[bufnr] = st
  end
  return st
end

local function stop_timer(st)
  if st.timer then
    st.timer:stop()
    if not st.timer:is_closing() then
      st.timer:close()
    end
    st.timer = nil
  end
end

local function cancel(st)
  if st.req then
    pcall(lsp.cancel, st.req.client, st.req.id)
    st.req = nil
  end
end

local function in_insert()
  return api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

--- Texts of a server answer, as seen from the cursor at (row, col) on `line`.
--- Items whose range starts before the cursor keep only what follows the typed text.
---@param result table|nil InlineCompletionList or item array
---@param line string the cursor line
---@param row integer
---@param col integer
---@param encoding string
---@return string[]
function M.texts(result, line, row, col, encoding)
  if type(result) ~= 'table' then
    return {}
  end
  local items = result.items or result
  local out = {}
  for _, item in ipairs(items) do
    local insert = item.insertText
    local s = type(insert) == 'string' and insert or (type(insert) == 'table' and insert.value)
    if type(s) == 'string' then
      local rest = s
      local range = item.range
      if type(range) == 'table' and range.start then
        local start_col = lsp.byte_col(line, range.start.character, encoding)
        if range.start.line ~= row or start_col > col then
          rest = nil
        else
          rest = text.remainder(s, line:sub(start_col + 1, col))
        end
      end
      if rest and rest ~= '' then
        table.insert(out, rest)
      end
    end
  end
  return out
end

--- Send one inline completion request for the cursor position of the current window.
--- The answer to an explicit request (INVOKED: the trigger key, next/previous) holds every item
--- the server offers and replaces the built-in suggestion; `select` is the item to show first.
---@param bufnr integer
---@param kind integer
---@param select? integer 1-based index of the item to show (wrapping), default 1
function M.request(bufnr, kind, select)
  local st = buf_state(bufnr)
  cancel(st)
  local client = lsp.client(bufnr)
  if not client or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local explicit = kind == INVOKED
  local win = api.nvim_get_current_win()
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local cursor = api.nvim_win_get_cursor(win)
  local id
  id = lsp.inline_request(client, bufnr, kind, function(err, result)
    if not st.req or st.req.id ~= id then
      return -- cancelled or superseded
    end
    local wanted = st.req.select or 1
    st.req = nil
    if err then
      return
    end
    if not M.enabled or not in_insert() or api.nvim_get_current_buf() ~= bufnr then
      return
    end
    local now = api.nvim_win_get_cursor(0)
    if api.nvim_buf_get_changedtick(bufnr) ~= tick or now[1] ~= cursor[1] or now[2] ~= cursor[2] then
      return -- the text moved on; a newer request follows
    end
    if M.path == 'native' and native.visible(bufnr) and not explicit then
      return -- the built-in UI already shows a suggestion
    end
    if menu.visible() and not M.opts.show_with_menu then
      return
    end
    local row, col = cursor[1] - 1, cursor[2]
    local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
    local texts = M.texts(result, line, row, col, client.offset_encoding)
    if explicit and #texts > 0 and M.path == 'native' then
      native.dismiss(bufnr) -- the explicit answer, with its alternatives, replaces it
    end
    if ghost.show(bufnr, row, col, texts, client.id, explicit) and wanted ~= 1 then
      ghost.select(bufnr, wanted)
    end
  end)
  if id then
    st.req = { client = client, id = id, explicit = explicit, select = select }
  end
end

--- Next/previous when only one suggestion is known because it answered an automatic request:
--- ask again explicitly (the server then sends its alternatives) and show the item `delta`
--- away from the first. The shown suggestion stays until the answer replaces it; pressing
--- again before then moves further.
---@param bufnr integer
---@param delta integer
---@return boolean asked
function M.alternatives(bufnr, delta)
  if not M.enabled or not lsp.client(bufnr) then
    return false
  end
  local st = buf_state(bufnr)
  if st.req and st.req.explicit then
    st.req.select = (st.req.select or 1) + delta
    return true
  end
  stop_timer(st)
  M.request(bufnr, INVOKED, 1 + delta)
  return st.req ~= nil
end

--- Cancel the built-in inline completion's requests still in flight for this buffer: the
--- text they were asked for is gone (the built-in module only cancels on InsertLeave).
---@param bufnr integer
local function cancel_native(bufnr)
  for _, client in ipairs(lsp.clients(bufnr)) do
    for id, req in pairs(client.requests or {}) do
      if req.type == 'pending' and req.bufnr == bufnr and req.method == 'textDocument/inlineCompletion' then
        pcall(lsp.cancel, client, id)
      end
    end
  end
end

--- Switch the built-in inline completion off while a menu is open, back on after.
---@param bufnr integer
---@param menu_open boolean
local function sync_native(bufnr, menu_open)
  local st = buf_state(bufnr)
  if menu_open and not st.suppressed and native.enabled(bufnr) then
    native.enable(bufnr, false)
    st.suppressed = true
  elseif not menu_open and st.suppressed then
    st.suppressed = false
    if M.enabled and M.opts.auto_trigger then
      native.enable(bufnr, true)
    end
  end
end

--- Any edit or cursor move in insert mode.
---@param bufnr integer
function M.on_edit(bufnr)
  if not M.enabled or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local st = buf_state(bufnr)
  local menu_open = not M.opts.show_with_menu and menu.visible()
  if M.path == 'native' then
    cancel_native(bufnr)
    sync_native(bufnr, menu_open)
  end
  cancel(st)
  stop_timer(st)
  if menu_open then
    ghost.clear(bufnr)
    return
  end
  local cur = api.nvim_win_get_cursor(0)
  if ghost.follow(bufnr, cur[1] - 1, cur[2]) then
    return -- still typing over the shown suggestion: nothing new to ask
  end
  if M.path ~= 'fallback' or not M.opts.auto_trigger then
    return
  end
  st.timer = vim.defer_fn(function()
    st.timer = nil
    if in_insert() and api.nvim_get_current_buf() == bufnr then
      M.request(bufnr, AUTOMATIC)
    end
  end, M.opts.debounce_ms)
end

--- Leaving insert mode or the buffer: nothing stays on screen or in flight.
---@param bufnr integer
function M.reset(bufnr)
  local st = M.bufs[bufnr]
  if st then
    cancel(st)
    stop_timer(st)
  end
  ghost.clear(bufnr)
end

--- Ask now, without waiting (the trigger key).
---@param bufnr integer
---@return boolean
function M.trigger(bufnr)
  if not M.enabled or not lsp.client(bufnr) then
    return false
  end
  local st = buf_state(bufnr)
  if st.req and st.req.explicit then
    return true -- already asking
  end
  stop_timer(st)
  M.request(bufnr, INVOKED)
  return true
end

--- The server has just finished loading the model. A request it answered (empty) while it
--- loaded would leave the user without a suggestion until the next key, so ask again where
--- the user is typing; a request still waiting for its answer needs no second one.
--- On 0.12 the answer is drawn like the trigger key's, until the built-in UI has its own.
---@return boolean asked
function M.on_ready()
  local bufnr = api.nvim_get_current_buf()
  if not M.enabled or not M.opts or not M.opts.auto_trigger or not M.bufs[bufnr] then
    return false
  end
  local client = lsp.client(bufnr)
  if not in_insert() or not client or lsp.inline_pending(client, bufnr) then
    return false
  end
  if ghost.visible(bufnr) or (M.path == 'native' and native.visible(bufnr)) then
    return false
  end
  if menu.visible() and not M.opts.show_with_menu then
    return false
  end
  M.request(bufnr, AUTOMATIC)
  return true
end

--- Set up the autocommands of one buffer the server attached to.
---@param bufnr integer
function M.attach(bufnr)
  local group = api.nvim_create_augroup('codestral.buf.' .. bufnr, { clear = true })
  buf_state(bufnr)
  api.nvim_create_autocmd({ 'InsertEnter', 'TextChangedI', 'CursorMovedI', 'TextChangedP' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.on_edit(bufnr)
    end,
  })
  api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.reset(bufnr)
    end,
  })
  api.nvim_create_autocmd('ModeChanged', {
    group = group,
    buffer = bufnr,
    callback = function()
      local new = (vim.v.event or {}).new_mode or api.nvim_get_mode().mode
      if new:sub(1, 1) ~= 'i' then
        M.reset(bufnr)
      end
    end,
  })
  api.nvim_create_autocmd({ 'CompleteChanged', 'CompleteDone' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      vim.schedule(function()
        if api.nvim_buf_is_valid(bufnr) and api.nvim_get_current_buf() == bufnr then
          M.on_edit(bufnr)
        end
      end)
    end,
  })
  api.nvim_create_autocmd('BufWipeout', {
    group = group,
    buffer = bufnr,
    callback = function()
      M.reset(bufnr)
      M.bufs[bufnr] = nil
    end,
  })
  if M.path == 'native' and M.enabled and M.opts.auto_trigger then
    native.enable(bufnr, true)
  end
end

--- Buffers the plugin currently manages.
---@return integer[]
function M.buffers()
  local out = {}
  for bufnr in pairs(M.bufs) do
    if api.nvim_buf_is_valid(bufnr) then
      table.insert(out, bufnr)
    end
  end
  return out
end

---@param on boolean
function M.set_enabled(on)
  M.enabled = on
  for _, bufnr in ipairs(M.buffers()) do
    if not on then
      M.reset(bufnr)
    end
    if M.path == 'native' then
      M.bufs[bufnr].suppressed = false
      native.enable(bufnr, on and M.opts.auto_trigger)
    end
  end
end

--- Global hooks: menus of plugins that do not use the popup menu, and the moment a built-in
--- answer arrives (it replaces the plugin's own overlay).
function M.setup_global()
  local group = api.nvim_create_augroup('codestral.global', { clear = true })
  api.nvim_create_autocmd('User', {
    group = group,
    pattern = { 'BlinkCmpMenuOpen', 'BlinkCmpMenuClose' },
    callback = function()
      local bufnr = api.nvim_get_current_buf()
      if M.bufs[bufnr] and in_insert() then
        vim.schedule(function()
          M.on_edit(bufnr)
        end)
      end
    end,
  })
  api.nvim_create_autocmd('LspRequest', {
    group = group,
    callback = function(ev)
      local req = ev.data and ev.data.request
      if M.path ~= 'native' or not req or req.type ~= 'complete' then
        return
      end
      if req.method ~= 'textDocument/inlineCompletion' then
        return
      end
      local bufnr = ev.buf
      vim.schedule(function()
        if not (bufnr and api.nvim_buf_is_valid(bufnr) and native.visible(bufnr)) then
          return
        end
        local shown = ghost.get(bufnr)
        if shown and shown.explicit and ghost.visible(bufnr) then
          native.dismiss(bufnr) -- an explicit answer (with alternatives) stays until it is done
        else
          ghost.clear(bufnr)
        end
      end)
    end,
  })
  local cmp = package.loaded['cmp']
  if type(cmp) == 'table' and cmp.event and type(cmp.event.on) == 'function' then
    for _, name in ipairs({ 'menu_opened', 'menu_closed' }) do
      pcall(cmp.event.on, cmp.event, name, function()
        local bufnr = api.nvim_get_current_buf()
        if M.bufs[bufnr] then
          vim.schedule(function()
            M.on_edit(bufnr)
          end)
        end
      end)
    end
  end
end

return M
