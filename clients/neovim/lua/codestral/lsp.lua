-- Starting codestral-ls and talking to it, across Neovim 0.10 (vim.lsp.start) and
-- 0.11+ (vim.lsp.config / vim.lsp.enable).
local config = require('codestral.config')
local status = require('codestral.status')
local api = vim.api

local M = {}

M.name = 'codestral'
local has_011 = vim.fn.has('nvim-0.11') == 1

--- Client methods are called with ':' from 0.11 and with '.' on 0.10.
---@param client vim.lsp.Client
function M.request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify(client, method, params, bufnr)
  if has_011 then
    return client:notify(method, params, bufnr)
  end
  return client.notify(method, params)
end

function M.cancel(client, id)
  if has_011 then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

function M.request_sync(client, method, params, timeout_ms, bufnr)
  if has_011 then
    return client:request_sync(method, params, timeout_ms, bufnr)
  end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

---@param bufnr integer|nil
---@return vim.lsp.Client[]
function M.clients(bufnr)
  return vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
end

---@param bufnr integer
---@return vim.lsp.Client|nil
function M.client(bufnr)
  return M.clients(bufnr)[1]
end

--- Whether the plugin attaches to this buffer: a real file, not excluded, not too large.
---@param bufnr integer
---@param opts table
---@return boolean
function M.eligible(bufnr, opts)
  if not api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return false
  end
  local name = api.nvim_buf_get_name(bufnr)
  if name == '' then
    return false
  end
  local ft = vim.bo[bufnr].filetype
  if vim.tbl_contains(opts.exclude_filetypes, ft) then
    return false
  end
  if opts.filetypes and not vim.tbl_contains(opts.filetypes, ft) then
    return false
  end
  local size = vim.fn.getfsize(name)
  if size > opts.max_file_bytes then
    return false
  end
  return true
end

---@param bufnr integer
---@param opts table
---@return string
function M.root(bufnr, opts)
  local root = vim.fs.root(bufnr, opts.root_markers)
  return root or vim.fn.getcwd()
end

--- The client configuration shared by both ways of starting the server.
---@param opts table
---@param hooks table {on_attach: fun(client, bufnr), on_status: nil|fun(before: string|nil, now: string)}
---@return table
function M.client_config(opts, hooks)
  local payload = config.payload(opts.settings)
  return {
    name = M.name,
    cmd = config.command(opts),
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    init_options = payload,
    settings = payload,
    -- One server for the whole editor session: one model in memory, whatever the project.
    reuse_client = function(client, conf)
      return client.name == conf.name
    end,
    handlers = {
      ['codestral/status'] = function(_, params)
        local before = status.last and status.last.state
        status.update(params)
        local now = status.last and status.last.state
        vim.schedule(function()
          if hooks.on_status and now then
            hooks.on_status(before, now)
          end
          pcall(api.nvim_exec_autocmds, 'User', {
            pattern = 'CodestralStatus',
            modeline = false,
            data = { state = now, previous = before },
          })
          pcall(vim.cmd.redrawstatus)
        end)
        return vim.NIL
      end,
      ['window/showMessage'] = function(_, params)
        local level = ({ vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO })[params.type]
          or vim.log.levels.INFO
        status.notify_once(params.message, level)
        return vim.NIL
      end,
    },
    on_attach = function(client, bufnr)
      hooks.on_attach(client, bufnr)
    end,
  }
end

--- Register and start the server for eligible buffers.
---@param opts table
---@param hooks table
function M.start(opts, hooks)
  local conf = M.client_config(opts, hooks)
  if vim.lsp.config and vim.lsp.enable and not opts._legacy_start then
    conf.root_dir = function(bufnr, on_dir)
      if M.eligible(bufnr, opts) then
        on_dir(M.root(bufnr, opts))
      end
    end
    vim.lsp.config(M.name, conf)
    vim.lsp.enable(M.name)
    return
  end
  -- Neovim 0.10: start (or reuse) the client ourselves for each eligible buffer.
  local group = api.nvim_create_augroup('codestral.start', { clear = true })
  local function maybe_start(bufnr)
    if not M.eligible(bufnr, opts) or M.client(bufnr) then
      return
    end
    local c = vim.deepcopy(conf)
    c.root_dir = M.root(bufnr, opts)
    c.reuse_client = nil
    vim.lsp.start(c, { bufnr = bufnr, reuse_client = conf.reuse_client })
  end
  api.nvim_create_autocmd('FileType', {
    group = group,
    callback = function(ev)
      maybe_start(ev.buf)
    end,
  })
  for _, bufnr in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= '' then
      maybe_start(bufnr)
    end
  end
end

--- Send changed settings to every running server.
---@param settings table
function M.push_settings(settings)
  local payload = config.payload(settings)
  for _, client in ipairs(M.clients()) do
    client.settings = payload
    if client.config then
      client.config.settings = payload
    end
    M.notify(client, 'workspace/didChangeConfiguration', { settings = payload })
  end
end

--- Ask the server for an inline completion at the cursor of the current window.
---@param client vim.lsp.Client
---@param bufnr integer
---@param kind integer 1 = invoked, 2 = automatic
---@param callback fun(err: table|nil, result: table|nil)
---@return integer|nil request_id
function M.inline_request(client, bufnr, kind, callback)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = kind }
  local ok, id = M.request(client, 'textDocument/inlineCompletion', params, function(err, result)
    callback(err, result)
  end, bufnr)
  return ok and id or nil
end

--- Whether an inline completion request for this buffer is waiting for the server's answer.
---@param client vim.lsp.Client
---@param bufnr integer
---@return boolean
function M.inline_pending(client, bufnr)
  for _, req in pairs(client.requests or {}) do
    if req.type == 'pending' and req.bufnr == bufnr and req.method == 'textDocument/inlineCompletion' then
      return true
    end
  end
  return false
end

--- Byte column of an LSP position's character on a line, for any position encoding.
---@param line string
---@param character integer
---@param encoding string
---@return integer
function M.byte_col(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  if has_011 then
    local ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
    return ok and col or #line
  end
  local ok, col = pcall(vim.str_byteindex, line, character, encoding == 'utf-16')
  return ok and col or #line
end

return M
