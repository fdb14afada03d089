-- Headless Neovim (0.7+) smoke test: attach `score-gen lsp` to a Score file and read back the
-- diagnostics through Neovim's own LSP client. Run by .ci/lsp-e2e:
--   SCORE_GEN=... SMOKE_DIR=... nvim --headless -u NONE -n -c 'luafile nvim_smoke.lua'
-- Exits 0 when the expected diagnostic arrives, 1 otherwise (the reason on stderr).
local bin = os.getenv('SCORE_GEN')
local dir = os.getenv('SMOKE_DIR')
local function fail(msg)
  io.stderr:write('nvim smoke: FAIL: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end
if not bin or not dir then fail('SCORE_GEN and SMOKE_DIR must be set') end

local file = dir .. '/score.yaml'
local f = assert(io.open(file, 'w'))
f:write('apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    imge: nginx\n')
f:close()

vim.cmd('edit ' .. file)
local buf = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = 'score-gen',
  cmd = { bin, 'lsp' },
  root_dir = dir,
})
if not client_id then fail('the client did not start') end
vim.lsp.buf_attach_client(buf, client_id)

local ok = vim.wait(10000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
if not ok then fail('no diagnostics within 10 s') end

local found = false
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  io.stderr:write(string.format('nvim smoke: %d:%d %s %s\n', d.lnum + 1, d.col + 1, tostring(code),
    (d.message:gsub('\n.*', ''))))
  if code == 'score::schema::violation' and d.lnum == 5 and d.col == 4
      and d.message:find('unknown field "imge"', 1, true) then
    found = true
  end
end
if not found then fail('the unknown-field diagnostic at 6:5 is missing') end

vim.lsp.stop_client(client_id)
vim.wait(2000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
io.stderr:write('nvim smoke: ok\n')
vim.cmd('qall!')
