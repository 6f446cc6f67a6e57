-- :checkhealth codestral
local M = {}

local health = vim.health

local function cmd_of()
  local ok, plugin = pcall(require, 'codestral')
  local opts = ok and plugin.opts or nil
  return opts and opts.cmd or require('codestral.config').defaults.cmd, opts
end

local function run(cmd, timeout)
  local ok, proc = pcall(vim.system, cmd, { text = true })
  if not ok then
    return nil, tostring(proc)
  end
  local res = proc:wait(timeout)
  if res.code ~= 0 then
    return nil, vim.trim((res.stderr or '') .. (res.stdout or '')), res
  end
  return vim.trim(res.stdout or ''), nil, res
end

local function report_doctor(doc)
  if type(doc) ~= 'table' then
    health.warn('doctor: unexpected answer')
    return
  end
  if doc.version then
    health.info('server reports version ' .. tostring(doc.version))
  end
  for _, check in ipairs(doc.checks or {}) do
    local line = ('%s: %s'):format(tostring(check.name), tostring(check.detail or ''))
    if check.ok then
      health.ok(line)
    else
      health.error(line)
    end
  end
end

function M.check()
  local cmd, opts = cmd_of()
  health.start('codestral: Neovim')
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. version)
  else
    health.error('Neovim ' .. version .. ' is too old: codestral needs 0.10 or newer')
  end
  local plugin = require('codestral')
  local native = require('codestral.native')
  health.info(
    'starting the server with '
      .. (
        (vim.lsp.config and vim.lsp.enable and not (opts and opts._legacy_start))
          and 'vim.lsp.config/vim.lsp.enable (0.11+)'
        or 'vim.lsp.start (as on 0.10)'
      )
  )
  health.info(
    native.available() and 'vim.lsp.inline_completion is available (0.12+)'
      or 'vim.lsp.inline_completion is not available: the plugin draws ghost text itself'
  )
  if opts then
    health.ok(('set up; suggestions drawn by the %s path'):format(plugin.choose_path(opts.mode)))
    local skipped = require('codestral.keys').skipped
    if #skipped > 0 then
      health.warn('keys left to existing mappings: ' .. table.concat(skipped, ', '))
    end
  else
    health.warn('require("codestral").setup() has not been called')
  end

  health.start('codestral: server')
  local client = require('codestral.lsp').clients()[1]
  if type(cmd) == 'function' then
    health.info('the server is reached through a function (cmd), not started as a program')
    if client then
      local res = require('codestral.lsp').request_sync(client, 'codestral/doctor', vim.empty_dict(), 15000)
      if res and res.result then
        report_doctor(res.result)
      else
        health.error('codestral/doctor request failed')
      end
    end
    return
  end
  local exe = cmd[1]
  if vim.fn.executable(exe) ~= 1 then
    health.error(('%q is not executable or not on PATH'):format(exe), {
      'pip install codestral-ls, or set setup({ cmd = { "/path/to/codestral-ls" } })',
    })
    return
  end
  health.ok(('executable: %s'):format(vim.fn.exepath(exe)))
  local out, err = run({ exe, '--version' }, 10000)
  if out then
    health.ok('version: ' .. out)
  else
    health.error('`' .. exe .. ' --version` failed: ' .. tostring(err))
  end

  if client then
    health.ok(('client %d running (root %s)'):format(client.id, tostring(client.root_dir)))
    local res = require('codestral.lsp').request_sync(client, 'codestral/doctor', vim.empty_dict(), 15000)
    if res and res.result then
      report_doctor(res.result)
      return
    end
    health.warn('codestral/doctor request failed; running the doctor command instead')
  else
    health.info('no server running yet (open a file to start it)')
  end
  local json, derr = run({ exe, 'doctor', '--json' }, 60000)
  if not json then
    health.error('`' .. exe .. ' doctor --json` failed: ' .. tostring(derr))
    return
  end
  local ok, doc = pcall(vim.json.decode, json)
  if ok then
    report_doctor(doc)
  else
    health.error('doctor output is not JSON: ' .. json:sub(1, 200))
  end
end

return M
